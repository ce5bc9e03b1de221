--[[
  heartbeat-instance-2: extend this process's hold on its SERVER_ID, if it still holds it.

  KEYS[1] {sc}:servers       zset: SERVER_ID scored by its lease expiry (ms)
  KEYS[2] {sc}:servers:info  hash: SERVER_ID -> JSON {incarnation, ...}
  ARGV[1] SERVER_ID, ARGV[2] this process's info JSON, ARGV[3] its incarnation, ARGV[4] TTL (ms)

  Returns
    {1, 'renewed'}     renewed
    {1, 'rejoined'}    joined again: its entry had lapsed (e.g. while Redis was unreachable) and
                       nobody took the id
    {-1, holderInfo}   lost: another process holds the id now: nothing written
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local holder = redis.call('HGET', KEYS[2], ARGV[1])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if holder and score and tonumber(score) > now then
  if cjson.decode(holder).incarnation ~= ARGV[3] then
    return {-1, holder}
  end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
  return {1, 'renewed'}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {1, 'rejoined'}
