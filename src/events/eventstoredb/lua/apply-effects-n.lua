--[[
  apply-effects-n: write what a batch of EventStoreDB appends caused (DESIGN.md §4), read by the
  notifier from `$all`, together with the notifier's new checkpoint, only while the batch is still
  the lease holder's and starts where the last one ended — so each append's effects are written
  exactly once, whoever dies when. Per append: the outcome of its idempotency key (unless one is
  recorded already: then that one stands and is the reply), its notifications, its job, and the
  reply on its channel.

  KEYS[1] notifier hash         {sc}:proj:notifier   fields fence, checkpoint
  KEYS[2] notifications         {sc}:notify          MAXLEN ~ retention
  then 2 per append i (1-based):
  KEYS[1 + 2i] outcome key      {sc}:c:<digest>      (a placeholder without a key)
  KEYS[2 + 2i] job queue        {sc}:jobs:<queue>    (a placeholder without a job)

  ARGV[1] fencing token of the holder's lease
  ARGV[2] the checkpoint the batch started from
  ARGV[3] the checkpoint after the batch (the position of its last event)
  ARGV[4] outcome TTL in seconds (COMMAND_DEDUP_TTL_S)
  ARGV[5] notifications retention (approximate MAXLEN)
  ARGV[6] the number of appends
  then each append: key ('' for none), reply channel (''), outcome JSON, writer's server id, m,
    6 per notification (method, params, target, targetIds, topic, traceparent or ''),
    then '1' and a job (id, type, data, meta), or '0'

  Returns
    {1, outcomes recorded}   written
    {-1, 'fenced'}           another holder has the lease now: nothing written
    {-1, 'moved'}            the checkpoint is not where the batch started: nothing written
]]
local h, notifyKey = KEYS[1], KEYS[2]
local state = redis.call('HMGET', h, 'fence', 'checkpoint')
if (state[1] or '0') ~= ARGV[1] then return {-1, 'fenced'} end
if (state[2] or '0') ~= ARGV[2] then return {-1, 'moved'} end
local ttl, retention, count = ARGV[4], ARGV[5], tonumber(ARGV[6])

local replies, channels = {}, {}
local recorded = 0
local a = 7
for op = 1, count do
  local doneKey, jobKey = KEYS[1 + 2 * op], KEYS[2 + 2 * op]
  local key, channel, outcome, serverId = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local m = tonumber(ARGV[a + 4])
  local notes = a + 5
  local job = notes + 6 * m
  local hasJob = ARGV[job] == '1'
  a = job + (hasJob and 5 or 1)
  if key ~= '' then
    local done = redis.call('GET', doneKey)
    if done and done ~= 's' then
      outcome = done -- recorded before (an answer that raced this append): it stands
    else
      redis.call('SET', doneKey, outcome, 'EX', ttl)
      recorded = recorded + 1
    end
    if channel ~= '' then
      if not replies[channel] then
        replies[channel] = {}
        channels[#channels + 1] = channel
      end
      local lines = replies[channel]
      lines[#lines + 1] = key .. '\t' .. outcome
    end
  end
  for j = 0, m - 1 do
    local b = notes + 6 * j
    local fields = {'method', ARGV[b], 'params', ARGV[b + 1], 'target', ARGV[b + 2],
      'targetIds', ARGV[b + 3], 'topic', ARGV[b + 4], 'serverId', serverId}
    if ARGV[b + 5] ~= '' then
      fields[#fields + 1], fields[#fields + 2] = 'trace', ARGV[b + 5]
    end
    redis.call('XADD', notifyKey, 'MAXLEN', '~', retention, '*', unpack(fields))
  end
  if hasJob then
    redis.call('XADD', jobKey, '*', 'id', ARGV[job + 1], 'type', ARGV[job + 2],
      'data', ARGV[job + 3], 'meta', ARGV[job + 4])
  end
end
redis.call('HSET', h, 'checkpoint', ARGV[3])
for _, channel in ipairs(channels) do
  redis.call('SPUBLISH', channel, table.concat(replies[channel], '\n'))
end
return {1, recorded}
