--[[
  append-events-5: append events to an entity stream and the global log, together with their
  notifications, the outcome of the idempotency key, the reply and an optional job, as one atomic
  step.
  Every check comes before the first write: a script cannot roll back what it has written.

  KEYS[1] entity stream   {sc}:s:<streamId>   entry id 0-<version>
  KEYS[2] global log      {sc}:all            auto id = global position
  KEYS[3] notifications   {sc}:notify         MAXLEN ~ retention
  KEYS[4] outcome key     {sc}:done:<idempotencyKey> (unused when ARGV[4] is '')
  KEYS[5] job queue       {sc}:jobs:<queue> (unused without a job)

  ARGV[1]  stream id
  ARGV[2]  expected kind: any | no_stream | exists | exact
  ARGV[3]  expected version (for exact)
  ARGV[4]  idempotency key, '' for none
  ARGV[5]  outcome TTL in seconds
  ARGV[6]  caller's result as JSON, '' for none
  ARGV[7]  reply channel, '' for none (publishes the idempotency key)
  ARGV[8]  notifications retention (approximate MAXLEN)
  ARGV[9]  server id of the writer
  ARGV[10] '1' to check the idempotency key first; '0' only under the test-only fault switch, to
           show that the exactly-once test fails without the check
  ARGV[11] n = number of events, then 5 per event: id, type, schemaVersion, data, meta
  ARGV[12 + 5n] m = number of notifications, then 5 per one: method, params, target, targetIds, topic
  then '1' and a job (group, maxWaiting, id, type, data, meta), or '0'

  Returns
    {1, firstVersion, lastVersion, position * n, (notificationId, previousId) * m}
    {0, outcome JSON}    the idempotency key was used already: nothing written
    {-1, actualVersion}  the expected version did not match: nothing written
    {-2, 'queue-full', waiting}  the job queue already holds maxWaiting jobs nobody took: nothing
                         written
]]
local streamKey, allKey, notifyKey, doneKey, jobKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local streamId, expectedKind, expected = ARGV[1], ARGV[2], tonumber(ARGV[3])
local key, ttl, resultJson, replyChannel = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local retention, serverId = ARGV[8], ARGV[9]
local checkKey = ARGV[10] == '1'
local n = tonumber(ARGV[11])
local notifyBase = 12 + 5 * n
local m = tonumber(ARGV[notifyBase])
local jobBase = notifyBase + 1 + 5 * m
local hasJob = ARGV[jobBase] == '1'

if key ~= '' and checkKey then
  local done = redis.call('GET', doneKey)
  if done then return {0, done} end
end

-- entity streams are append-only (never trimmed, never XDEL'd), so their length is their version;
-- XLEN is O(1) and, unlike XREVRANGE, does not copy the last entry into Lua
local current = redis.call('XLEN', streamKey)
if (expectedKind == 'exact' and current ~= expected)
  or (expectedKind == 'no_stream' and current ~= 0)
  or (expectedKind == 'exists' and current == 0) then
  return {-1, current}
end

if hasJob then
  -- waiting = entries not yet delivered to the group (its lag), or the whole queue before it exists
  local waiting = redis.call('XLEN', jobKey)
  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', jobKey)
  if ok then
    for _, g in ipairs(groups) do
      local name, lag
      for i = 1, #g, 2 do
        if g[i] == 'name' then name = g[i + 1] end
        if g[i] == 'lag' then lag = g[i + 1] end
      end
      if name == ARGV[jobBase + 1] and type(lag) == 'number' then waiting = lag end
    end
  end
  if waiting >= tonumber(ARGV[jobBase + 2]) then return {-2, 'queue-full', waiting} end
end

local reply = {1, current + 1, current + n}
local quoted = {}
for i = 0, n - 1 do
  local b = 12 + 5 * i
  local version = current + 1 + i
  local position = redis.call('XADD', allKey, '*', 'stream', streamId, 'version', version,
    'id', ARGV[b], 'type', ARGV[b + 1], 'schema', ARGV[b + 2], 'data', ARGV[b + 3], 'meta', ARGV[b + 4])
  redis.call('XADD', streamKey, '0-' .. version,
    'id', ARGV[b], 'type', ARGV[b + 1], 'schema', ARGV[b + 2], 'data', ARGV[b + 3], 'meta', ARGV[b + 4],
    'pos', position)
  reply[#reply + 1] = position
  quoted[#quoted + 1] = '"' .. position .. '"'
end

if m > 0 then
  local previous = '0-0'
  local newest = redis.call('XREVRANGE', notifyKey, '+', '-', 'COUNT', 1)
  if newest[1] then previous = newest[1][1] end
  for j = 0, m - 1 do
    local b = notifyBase + 1 + 5 * j
    local id = redis.call('XADD', notifyKey, 'MAXLEN', '~', retention, '*',
      'method', ARGV[b], 'params', ARGV[b + 1], 'target', ARGV[b + 2], 'targetIds', ARGV[b + 3],
      'topic', ARGV[b + 4], 'serverId', serverId)
    reply[#reply + 1] = id
    reply[#reply + 1] = previous
    previous = id
  end
end

if hasJob then
  redis.call('XADD', jobKey, '*', 'id', ARGV[jobBase + 3], 'type', ARGV[jobBase + 4],
    'data', ARGV[jobBase + 5], 'meta', ARGV[jobBase + 6])
end

if key ~= '' then
  local outcome = '{"kind":"appended","streamId":' .. cjson.encode(streamId)
    .. ',"firstVersion":' .. (current + 1) .. ',"lastVersion":' .. (current + n)
    .. ',"globalPositions":[' .. table.concat(quoted, ',') .. ']'
  if resultJson ~= '' then outcome = outcome .. ',"result":' .. resultJson end
  redis.call('SET', doneKey, outcome .. '}', 'EX', ttl)
  if replyChannel ~= '' then redis.call('PUBLISH', replyChannel, key) end
end
return reply
