--[[
  release-lease-1: give up a projection's lease if this holder still holds it (a clean shutdown:
  another instance takes over at once instead of after the TTL). Never removes another's lease.

  KEYS[1] lease  {sc}:proj:<name>:lease   "<owner> <fence>"
  ARGV[1] "<owner> <fence>" of the holder

  Returns
    {1}    released
    {-1}   not this holder's lease (anymore): nothing written
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
redis.call('DEL', KEYS[1])
return {1}
