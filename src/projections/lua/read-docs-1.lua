-- Reads documents of the current generation in one step (a swap never splits a read).
-- KEYS: projection hash. ARGV: read-model key prefix, mode (get/list), id or after cursor, limit.
-- Returns {id, {field, value, ...}, ...}.
local generation = redis.call('HGET', KEYS[1], 'generation') or '1'
local prefix = ARGV[1] .. generation .. ':'
local ids
if ARGV[2] == 'get' then
  ids = {ARGV[3]}
else
  local from = ARGV[3] == '' and '-' or ('(' .. ARGV[3])
  ids = redis.call('ZRANGEBYLEX', prefix .. 'ids', from, '+', 'LIMIT', 0, tonumber(ARGV[4]))
end
local out = {}
for _, id in ipairs(ids) do
  local fields = redis.call('HGETALL', prefix .. 'd:' .. id)
  if #fields > 0 then
    out[#out + 1] = id
    out[#out + 1] = fields
  end
end
return out
