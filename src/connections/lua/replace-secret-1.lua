--[[
  replace-secret-1: compare-and-set of one connection's sealed secret (rotate-secrets re-seals a
  secret under the new SECRET_KEY only if nobody changed it since it was read).

  KEYS[1] {sc}:secret:<connectionId>   string: the sealed secret
  ARGV[1] the sealed secret as read (expected)
  ARGV[2] the sealed secret to store in its place

  Returns
    {1}           replaced
    {-1, stored}  the stored value is not ARGV[1] (stored: what is there, '' when none):
                  nothing written
]]
local stored = redis.call('GET', KEYS[1])
if stored ~= ARGV[1] then return {-1, stored or ''} end
redis.call('SET', KEYS[1], ARGV[2])
return {1}
