--[[
  commit-batch-n: commit a batch of operations in one atomic step (group commit, DESIGN.md G1, G3,
  G5), in order. Each operation is an append — its events to the entity stream and the global log,
  their notifications, the outcome of its idempotency key, an optional job — or a recorded answer
  (a domain error). An operation that carries a command entry acknowledges it here, with its
  outcome, so "committed but not acknowledged" cannot happen. Every check of an operation comes
  before its first write (a script cannot roll back); one operation's conflict or duplicate does
  not stop the others. Replies are published once per reply channel, every handled key with its
  outcome, one per line.

  KEYS[1] global log            {sc}:all
  KEYS[2] notifications         {sc}:notify          MAXLEN ~ retention
  KEYS[3] command stream        {sc}:cmd             whose entries operations acknowledge
  KEYS[4] command backlog       {sc}:cmd:backlog     commands enqueued and not acknowledged
                                                     (see enqueue-commands-n)
  then 3 per operation i (1-based):
  KEYS[2 + 3i] entity stream    {sc}:s:<streamId>    (a placeholder for an answer)
  KEYS[3 + 3i] outcome key      {sc}:done:<key>
  KEYS[4 + 3i] job queue        {sc}:jobs:<queue>    (a placeholder without a job)

  ARGV[1] outcome TTL in seconds (COMMAND_DEDUP_TTL_S)
  ARGV[2] notifications retention (approximate MAXLEN)
  ARGV[3] server id of the writer
  ARGV[4] '1' to check idempotency keys first; '0' only under the test-only fault switch
  ARGV[5] the command stream's consumer group
  ARGV[6] the number of operations
  ARGV[7] the prefix of the positions written into outcomes: '' with one partition, '<p>:' with
          partitions (an outcome's globalPositions are positions as clients see them)
  ARGV[8] '1' under REDIS_WAIT_REPLICAS > 0: outcomes are written unconfirmed (`~` before the JSON)
          and nothing is published (the writer's WAIT comes first: confirm-outcomes-n); a used key
          whose outcome is still unconfirmed is rewritten unchanged, so that WAIT covers it too
  then each operation:
    'A' (append): key ('' for none), reply channel (''), command entry to acknowledge (''),
        stream id, expected kind (any | no_stream | exists | exact), expected version,
        result JSON ('' for none; '=' before it when the result is derived again from the events,
        so the record leaves it out), n, then 5 per event (id, type, schemaVersion, data, meta),
        m, then 6 per notification (method, params, target, targetIds, topic, traceparent or ''),
        then '1' and a job (group, maxWaiting, id, type, data, meta), or '0'
    'R' (record an answer): key, reply channel (''), command entry to acknowledge (''),
        outcome JSON

  Returns {1, result of each operation}, where a result is
    {1, firstVersion, lastVersion, position * n, (notificationId, previousId) * m}   appended
    {1}                         answer recorded
    {0, record}                 the key had an outcome already (its stored record): nothing written
                                (entry acknowledged)
    {-1, actualVersion}         the expected version did not match: nothing written
    {-2, 'queue-full', waiting} the job queue holds maxWaiting jobs nobody took: nothing written
]]
local allKey, notifyKey, cmdKey, backlogKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local ttl, retention, serverId = ARGV[1], ARGV[2], ARGV[3]
local checkKeys, group, count = ARGV[4] == '1', ARGV[5], tonumber(ARGV[6])
local positionPrefix = ARGV[7]
local unconfirmed = ARGV[8] == '1'
local mark = unconfirmed and '~' or ''

local replies = {}   -- channel -> lines "key\toutcome"
local channels = {}
local function reply(channel, key, outcome)
  if channel == '' or unconfirmed then return end
  if not replies[channel] then
    replies[channel] = {}
    channels[#channels + 1] = channel
  end
  local lines = replies[channel]
  lines[#lines + 1] = key .. '\t' .. outcome
end

local acknowledged = 0 -- entries acknowledged by this call, counted off the backlog at the end
local function acknowledge(entry)
  if entry == '' then return end
  acknowledged = acknowledged + redis.call('XACK', cmdKey, group, entry)
end

local previousNotification -- the newest notification id, read once per batch
local function notificationBefore()
  if not previousNotification then
    previousNotification = '0-0'
    local newest = redis.call('XREVRANGE', notifyKey, '+', '-', 'COUNT', 1)
    if newest[1] then previousNotification = newest[1][1] end
  end
  return previousNotification
end

-- the waiting jobs of a queue: entries not yet delivered to the group (its lag), or the whole
-- queue before the group exists
local function waitingJobs(jobKey, jobGroup)
  local waiting = redis.call('XLEN', jobKey)
  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', jobKey)
  if ok then
    for _, g in ipairs(groups) do
      local name, lag
      for i = 1, #g, 2 do
        if g[i] == 'name' then name = g[i + 1] end
        if g[i] == 'lag' then lag = g[i + 1] end
      end
      if name == jobGroup and type(lag) == 'number' then waiting = lag end
    end
  end
  return waiting
end

-- a stream's version: the id 0-<version> of its newest entry. Not XLEN: retention trims entity
-- streams below their newest snapshot (src/events/trimmer.ts) and never removes the newest entry;
-- this copies that one entry into Lua (README "What an event costs")
local function versionOf(streamKey)
  local newest = redis.call('XREVRANGE', streamKey, '+', '-', 'COUNT', 1)[1]
  return newest and tonumber(string.sub(newest[1], 3)) or 0
end

-- a used key's outcome: under REDIS_WAIT_REPLICAS one still unconfirmed is rewritten unchanged
local function used(doneKey, done)
  if unconfirmed and string.sub(done, 1, 1) == '~' then
    redis.call('SET', doneKey, done, 'KEEPTTL')
  end
  return done
end

local results = {1}
local a = 9
for op = 1, count do
  local streamKey, doneKey, jobKey = KEYS[2 + 3 * op], KEYS[3 + 3 * op], KEYS[4 + 3 * op]
  local kind, key, channel, entry = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local done = (key ~= '' and checkKeys) and redis.call('GET', doneKey) or nil
  if done == 's' then done = nil end -- sent, not handled yet
  if done then done = used(doneKey, done) end
  if kind == 'R' then
    local outcome = ARGV[a + 4]
    a = a + 5
    if done then
      results[#results + 1] = {0, done}
      reply(channel, key, done)
    else
      redis.call('SET', doneKey, mark .. outcome, 'EX', ttl)
      results[#results + 1] = {1}
      reply(channel, key, outcome)
    end
    acknowledge(entry)
  else
    local streamId, expectedKind, expected = ARGV[a + 4], ARGV[a + 5], tonumber(ARGV[a + 6])
    local resultJson, n = ARGV[a + 7], tonumber(ARGV[a + 8])
    local derived = string.sub(resultJson, 1, 1) == '='
    if derived then resultJson = string.sub(resultJson, 2) end
    local events = a + 9
    local m = tonumber(ARGV[events + 5 * n])
    local notes = events + 5 * n + 1
    local job = notes + 6 * m
    local hasJob = ARGV[job] == '1'
    a = job + (hasJob and 7 or 1)
    local current = (not done) and versionOf(streamKey) or 0
    local waiting = (hasJob and not done) and waitingJobs(jobKey, ARGV[job + 1]) or 0
    if done then
      results[#results + 1] = {0, done}
      reply(channel, key, done)
      acknowledge(entry)
    elseif (expectedKind == 'exact' and current ~= expected)
      or (expectedKind == 'no_stream' and current ~= 0)
      or (expectedKind == 'exists' and current == 0) then
      results[#results + 1] = {-1, current}
    elseif hasJob and waiting >= tonumber(ARGV[job + 2]) then
      results[#results + 1] = {-2, 'queue-full', waiting}
    else
      local result = {1, current + 1, current + n}
      local quoted = {}
      for i = 0, n - 1 do
        local b = events + 5 * i
        local version = current + 1 + i
        -- the log entry refers to the entity stream's, which holds the event (README "What an
        -- event costs"); `type` stays for readAll's type filter
        local position = redis.call('XADD', allKey, '*', 'stream', streamId, 'version', version,
          'type', ARGV[b + 1])
        redis.call('XADD', streamKey, '0-' .. version, 'id', ARGV[b], 'type', ARGV[b + 1],
          'schema', ARGV[b + 2], 'data', ARGV[b + 3], 'meta', ARGV[b + 4], 'pos', position)
        result[#result + 1] = position
        quoted[#quoted + 1] = '"' .. positionPrefix .. position .. '"'
      end
      for j = 0, m - 1 do
        local b = notes + 6 * j
        local previous = notificationBefore()
        local fields = {'method', ARGV[b], 'params', ARGV[b + 1], 'target', ARGV[b + 2],
          'targetIds', ARGV[b + 3], 'topic', ARGV[b + 4], 'serverId', serverId}
        if ARGV[b + 5] ~= '' then -- the command's trace: SSE delivery links to it
          fields[#fields + 1], fields[#fields + 2] = 'trace', ARGV[b + 5]
        end
        local id = redis.call('XADD', notifyKey, 'MAXLEN', '~', retention, '*', unpack(fields))
        result[#result + 1] = id
        result[#result + 1] = previous
        previousNotification = id
      end
      if hasJob then
        redis.call('XADD', jobKey, '*', 'id', ARGV[job + 3], 'type', ARGV[job + 4],
          'data', ARGV[job + 5], 'meta', ARGV[job + 6])
      end
      if key ~= '' then
        local outcome = '{"kind":"appended","streamId":' .. cjson.encode(streamId)
          .. ',"firstVersion":' .. (current + 1) .. ',"lastVersion":' .. (current + n)
          .. ',"globalPositions":[' .. table.concat(quoted, ',') .. ']'
        if resultJson ~= '' then outcome = outcome .. ',"result":' .. resultJson end
        outcome = outcome .. '}'
        -- the record: where the events start (as clients see it), how many, and the result, or
        -- '=' when it is derived from the events again
        local record = 'a' .. positionPrefix .. result[4] .. (n > 1 and ('+' .. n) or '')
        if derived then record = record .. '='
        elseif resultJson ~= '' then record = record .. '|' .. resultJson end
        redis.call('SET', doneKey, mark .. record, 'EX', ttl)
        reply(channel, key, outcome)
      end
      acknowledge(entry)
      results[#results + 1] = result
    end
  end
end

if acknowledged > 0 and redis.call('EXISTS', backlogKey) == 1 then
  redis.call('DECRBY', backlogKey, acknowledged)
end
for _, channel in ipairs(channels) do
  redis.call('SPUBLISH', channel, table.concat(replies[channel], '\n'))
end
return results
