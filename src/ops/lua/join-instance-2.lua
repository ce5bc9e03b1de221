--[[
  join-instance-2: register this process under its SERVER_ID, unless a live instance holds it.
  Expiry is measured on the Redis clock, so instances with skewed clocks agree on who is live.

  KEYS[1] {sc}:servers       zset: SERVER_ID scored by its lease expiry (ms)
  KEYS[2] {sc}:servers:info  hash: SERVER_ID -> JSON {incarnation, host, pid, port, startedAt}
  ARGV[1] SERVER_ID, ARGV[2] this process's info JSON (with its incarnation), ARGV[3] TTL (ms)

  Returns
    {1, expiresAt}               joined
    {-1, msLeft, holderInfo}     a live instance holds the id: nothing written
  Expired entries of crashed instances are removed on the way.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 1, #expired do
  redis.call('ZREM', KEYS[1], expired[i])
  redis.call('HDEL', KEYS[2], expired[i])
end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score then
  return {-1, tonumber(score) - now, redis.call('HGET', KEYS[2], ARGV[1]) or ''}
end
local expiresAt = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], expiresAt, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {1, expiresAt}
