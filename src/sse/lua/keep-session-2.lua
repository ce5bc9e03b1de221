--[[
  keep-session-2: keep a client-chosen SSE session's record (owner and subscription) for
  reconnects, refreshing its TTL, unless it is new and its owner already keeps the most allowed.

  KEYS[1] session hash      {sc}:sse:session:<sessionId>   fields userId, spec
  KEYS[2] owner's sessions  {sc}:sse:user:<userId>         zset: session id -> expiry (ms, Redis clock)
  ARGV[1] session id
  ARGV[2] owner user id
  ARGV[3] subscription spec JSON
  ARGV[4] TTL in milliseconds
  ARGV[5] most sessions one user may keep
  ARGV[6] '1': replace an existing record's spec; '0': keep it (a reconnect)

  Returns
    {1}                        kept (created, or refreshed)
    {-2, 'too-many', count}    a new session while its owner keeps ARGV[5] others: nothing written
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('EXISTS', KEYS[1]) == 0 then
  local counted = redis.call('ZSCORE', KEYS[2], ARGV[1])
  local count = redis.call('ZCARD', KEYS[2])
  if not counted and count >= tonumber(ARGV[5]) then return {-2, 'too-many', count} end
  redis.call('HSET', KEYS[1], 'userId', ARGV[2], 'spec', ARGV[3])
elseif ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'spec', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
return {1}
