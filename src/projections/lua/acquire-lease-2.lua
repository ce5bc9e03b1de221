--[[
  acquire-lease-2: take a projection's lease (DESIGN.md G4), or extend it when this owner holds it
  already. A new holder gets a new fencing token, so the writes of the one it replaced are refused.

  KEYS[1] lease            {sc}:proj:<name>:lease   "<owner> <fence>", expires after the TTL
  KEYS[2] projection hash  {sc}:proj:<name>         fields fence, leader, checkpoint, generation
  ARGV[1] owner (SERVER_ID)
  ARGV[2] TTL in ms (LEASE_TTL_MS)
  ARGV[3] '1' to take the lease from another holder (a replay's last stretch), '0' not to

  Returns
    {1, fence}   held by this owner now, with its fencing token
    {-1}         another owner holds it (and ARGV[3] is '0'): nothing written
]]
local current = redis.call('GET', KEYS[1])
if current then
  local owner, fence = string.match(current, '^(.*) (%d+)$')
  if owner == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(fence)}
  end
  if ARGV[3] ~= '1' then return {-1} end
end
local fence = redis.call('HINCRBY', KEYS[2], 'fence', 1)
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. fence, 'PX', ARGV[2])
redis.call('HSET', KEYS[2], 'leader', ARGV[1])
return {1, fence}
