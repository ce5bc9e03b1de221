--[[
  renew-lease-1: extend a projection's lease while this holder still holds it.

  KEYS[1] lease  {sc}:proj:<name>:lease   "<owner> <fence>"
  ARGV[1] "<owner> <fence>" of the holder
  ARGV[2] TTL in ms (LEASE_TTL_MS)

  Returns
    {1}    extended
    {-1}   lost: another holder, or expired: nothing written
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1}
