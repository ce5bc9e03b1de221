--[[
  dead-letter-4: move a command that failed COMMAND_MAX_ATTEMPTS times to the dead-letter stream,
  acknowledge it, record `dead` as its outcome and publish the reply, in one step. A command whose
  outcome is already recorded is only acknowledged.

  KEYS[1] command stream  KEYS[2] dead-letter stream  KEYS[3] command record {sc}:c:<digest> ('s' while only sent)
  KEYS[4] command backlog {sc}:cmd:backlog (the acknowledged entry is counted off; enqueue-commands-n)
  ARGV[1] consumer group  ARGV[2] entry id
  ARGV[3..6] command fields: id, type, data, meta
  ARGV[7] last error  ARGV[8] attempts  ARGV[9] outcome JSON  ARGV[10] TTL s  ARGV[11] reply channel or ''
  ARGV[12] the command's key <userId>:<commandId> (the reply message)
  ARGV[13] '1' under REDIS_WAIT_REPLICAS > 0: the outcome is written unconfirmed (`~` before it) and
           nothing is published; the caller's pipelined WAIT comes first (confirm-outcomes-n)

  Returns
    {1}   dead-lettered
    {0}   the command had an outcome already: only acknowledged
]]
local function acknowledge()
  local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  if acked > 0 and redis.call('EXISTS', KEYS[4]) == 1 then redis.call('DECRBY', KEYS[4], acked) end
end
local record = redis.call('GET', KEYS[3])
if record and record ~= 's' then
  acknowledge()
  return {0}
end
redis.call('XADD', KEYS[2], '*', 'id', ARGV[3], 'type', ARGV[4], 'data', ARGV[5], 'meta', ARGV[6],
  'error', ARGV[7], 'attempts', ARGV[8], 'entry', ARGV[2])
acknowledge()
local unconfirmed = ARGV[13] == '1'
redis.call('SET', KEYS[3], (unconfirmed and '~' or '') .. ARGV[9], 'EX', ARGV[10])
if ARGV[11] ~= '' and not unconfirmed then redis.call('SPUBLISH', ARGV[11], ARGV[12]) end
return {1}
