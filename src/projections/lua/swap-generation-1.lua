--[[
  swap-generation-1: make the rebuilt generation current, with its checkpoint, in one step (reads
  resolve the generation inside their own script, so no query is split by the swap).

  KEYS[1] projection hash  {sc}:proj:<name>   fields fence, generation, rebuild:generation,
                                                rebuild:checkpoint
  ARGV[1] fencing token of the rebuild's lease

  Returns
    {1, replaced generation}   swapped
    {-1}                       the fence is stale (another holder took the lease): nothing written
    {-2, 'no-rebuild'}         no rebuild in progress: nothing written
]]
local h = KEYS[1]
local s = redis.call('HMGET', h, 'fence', 'generation', 'rebuild:generation', 'rebuild:checkpoint')
if (s[1] or '0') ~= ARGV[1] then return {-1} end
if not s[3] then return {-2, 'no-rebuild'} end
redis.call('HSET', h, 'generation', s[3], 'checkpoint', s[4])
redis.call('HDEL', h, 'rebuild:generation', 'rebuild:checkpoint')
return {1, tonumber(s[2] or '1')}
