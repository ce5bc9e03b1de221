--[[
  leave-instance-2: give up this process's SERVER_ID on a clean shutdown, so a restart under the
  same id need not wait for the entry to expire. Never removes another process's entry.

  KEYS[1] {sc}:servers       zset: SERVER_ID scored by its lease expiry (ms)
  KEYS[2] {sc}:servers:info  hash: SERVER_ID -> JSON {incarnation, ...}
  ARGV[1] SERVER_ID, ARGV[2] this process's incarnation

  Returns
    {1}    removed
    {-1}   the id was not this process's (anymore): nothing written
]]
local holder = redis.call('HGET', KEYS[2], ARGV[1])
if not holder or cjson.decode(holder).incarnation ~= ARGV[2] then
  return {-1}
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return {1}
