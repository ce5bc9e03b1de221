-- Makes the rebuilt generation current, with its checkpoint. KEYS: projection hash. ARGV: fence.
-- Returns the replaced generation, or an error when the fence is stale or no rebuild exists.
local h = KEYS[1]
local s = redis.call('HMGET', h, 'fence', 'generation', 'rebuild:generation', 'rebuild:checkpoint')
if (s[1] or '0') ~= ARGV[1] then return redis.error_reply('FENCED the lease was taken by another holder') end
if not s[3] then return redis.error_reply('NOREBUILD no rebuild in progress') end
redis.call('HSET', h, 'generation', s[3], 'checkpoint', s[4])
redis.call('HDEL', h, 'rebuild:generation', 'rebuild:checkpoint')
return tonumber(s[2] or '1')
