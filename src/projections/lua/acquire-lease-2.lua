-- Takes a projection's lease. KEYS: lease, projection hash. ARGV: owner, ttl ms, steal (1/0).
-- Returns the fence, or false when another owner holds it (and steal is off).
local current = redis.call('GET', KEYS[1])
if current then
  local owner, fence = string.match(current, '^(.*) (%d+)$')
  if owner == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(fence)
  end
  if ARGV[3] ~= '1' then return false end
end
local fence = redis.call('HINCRBY', KEYS[2], 'fence', 1)
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. fence, 'PX', ARGV[2])
redis.call('HSET', KEYS[2], 'leader', ARGV[1])
return fence
