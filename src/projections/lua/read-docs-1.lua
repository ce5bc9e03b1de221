--[[
  read-docs-1: read documents of a projection's current generation in one step (a generation swap
  never splits a read).

  KEYS[1] projection hash  {sc}:proj:<name>   field generation
  ARGV[1] read-model key prefix {sc}:rm:<name>:   (documents are <prefix><generation>:d:<id>)
  ARGV[2] mode: get (one id) or list (ids in order after a cursor)
  ARGV[3] the id (get), or the cursor: the last id of the previous page, '' for the first (list)
  ARGV[4] most documents (list)

  Returns {1, id, {field, value, …}, id, {…}, …}: the documents found (a missing one is left out).
]]
local generation = redis.call('HGET', KEYS[1], 'generation') or '1'
local prefix = ARGV[1] .. generation .. ':'
local ids
if ARGV[2] == 'get' then
  ids = {ARGV[3]}
else
  local from = ARGV[3] == '' and '-' or ('(' .. ARGV[3])
  ids = redis.call('ZRANGEBYLEX', prefix .. 'ids', from, '+', 'LIMIT', 0, tonumber(ARGV[4]))
end
local out = {1}
for _, id in ipairs(ids) do
  local fields = redis.call('HGETALL', prefix .. 'd:' .. id)
  if #fields > 0 then
    out[#out + 1] = id
    out[#out + 1] = fields
  end
end
return out
