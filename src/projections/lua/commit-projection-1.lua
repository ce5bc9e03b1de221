--[==[
  commit-projection-1: commit one batch of a projection (DESIGN.md G4): its read-model writes and
  its new checkpoint, only when the batch is still the holder's and starts where the last one
  ended. A live batch needs the current fence and checkpoint (and generation); a rebuild batch the
  rebuild's generation and checkpoint. Read-model keys share KEYS[1]'s hash tag (one slot).

  KEYS[1] projection hash  {sc}:proj:<name>   fields fence, checkpoint, generation,
                                                rebuild:generation, rebuild:checkpoint
  ARGV[1] fencing token of the holder's lease
  ARGV[2] the checkpoint the batch started from
  ARGV[3] the checkpoint after the batch (the global position of its last event)
  ARGV[4] mode: live or rebuild
  ARGV[5] the generation written to
  ARGV[6] read-model key prefix {sc}:rm:<name>:
  ARGV[7] the writes as JSON: [[id, delete 0/1, [field, json value, …], [field, increment, …],
          [index, score, keep] or []], …]
  ARGV[8] channel announcing live checkpoints {sc}:proj:checkpoints (message: <name>\t<checkpoint>)
  ARGV[9] the projection's name

  Returns
    {1}             committed (a live batch's new checkpoint published on ARGV[8])
    {-1, 'fenced'}  another holder has the lease now: nothing written
    {-1, 'moved'}   the checkpoint (or generation) is not where the batch started: nothing written
]==]
local h = KEYS[1]
local s = redis.call('HMGET', h, 'fence', 'checkpoint', 'generation', 'rebuild:generation', 'rebuild:checkpoint')
local checkpointField = 'checkpoint'
if ARGV[4] == 'live' then
  if (s[1] or '0') ~= ARGV[1] then return {-1, 'fenced'} end
  if (s[2] or '0') ~= ARGV[2] or (s[3] or '1') ~= ARGV[5] then return {-1, 'moved'} end
else
  if s[4] ~= ARGV[5] or (s[5] or '0') ~= ARGV[2] then return {-1, 'moved'} end
  checkpointField = 'rebuild:checkpoint'
end
local prefix = ARGV[6] .. ARGV[5] .. ':'
local ids = prefix .. 'ids'
for _, w in ipairs(cjson.decode(ARGV[7])) do
  local id, set, incr = w[1], w[3], w[4]
  local key = prefix .. 'd:' .. id
  if w[2] == 1 then
    redis.call('DEL', key)
    redis.call('ZREM', ids, id)
  end
  if #set > 0 then redis.call('HSET', key, unpack(set)) end
  for i = 1, #incr, 2 do
    local current = tonumber(redis.call('HGET', key, incr[i])) or 0
    redis.call('HSET', key, incr[i], current + incr[i + 1])
  end
  if #set > 0 or #incr > 0 then redis.call('ZADD', ids, 0, id) end
  local cap = w[5]
  if cap and #cap == 3 then
    -- a capped index: past `keep` entries the lowest-scored documents go
    local index = prefix .. 'x:' .. cap[1]
    redis.call('ZADD', index, cap[2], id)
    local over = redis.call('ZCARD', index) - cap[3]
    if over > 0 then
      for _, old in ipairs(redis.call('ZRANGE', index, 0, over - 1)) do
        redis.call('DEL', prefix .. 'd:' .. old)
        redis.call('ZREM', ids, old)
        redis.call('ZREM', index, old)
      end
    end
  end
end
redis.call('HSET', h, checkpointField, ARGV[3])
if ARGV[4] == 'live' then redis.call('SPUBLISH', ARGV[8], ARGV[9] .. '\t' .. ARGV[3]) end
return {1}
