-- Commits one batch of a projection (DESIGN.md G4). KEYS: projection hash.
-- ARGV: fence, from checkpoint, to checkpoint, mode (live/rebuild), generation,
--       read-model key prefix (`{sc}:rm:<name>:`), writes as JSON
--       [[id, delete 0/1, [field, json value, ...], [field, increment, ...], [index, score, keep] or []], ...].
-- Live: the fence must be the current one and the checkpoint the batch started from; rebuild: the
-- rebuild's generation and checkpoint. Otherwise nothing is written. Read-model keys share the
-- hash tag of KEYS[1] (one slot).
local h = KEYS[1]
local s = redis.call('HMGET', h, 'fence', 'checkpoint', 'generation', 'rebuild:generation', 'rebuild:checkpoint')
local checkpointField = 'checkpoint'
if ARGV[4] == 'live' then
  if (s[1] or '0') ~= ARGV[1] then return 'fenced' end
  if (s[2] or '0') ~= ARGV[2] or (s[3] or '1') ~= ARGV[5] then return 'moved' end
else
  if s[4] ~= ARGV[5] or (s[5] or '0') ~= ARGV[2] then return 'moved' end
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
return 'ok'
