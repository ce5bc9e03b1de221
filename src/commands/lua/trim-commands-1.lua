--[[
  trim-commands-1: drop handled commands from the command stream. Trims with MINID below the
  smaller of the oldest pending entry and the first entry after the group's last-delivered-id, so
  nothing pending or not yet delivered is ever removed (never MAXLEN).

  KEYS[1] command stream
  ARGV[1] consumer group

  Returns {1, entries removed}.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {1, 0} end
local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if not ok then return {1, 0} end
local lastDelivered
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  if info['name'] == ARGV[1] then lastDelivered = info['last-delivered-id'] end
end
if not lastDelivered then return {1, 0} end

local function less(a, b)
  local am, as = string.match(a, '^(%d+)%-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)%-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

local minId
local nextUndelivered = redis.call('XRANGE', KEYS[1], '(' .. lastDelivered, '+', 'COUNT', 1)
if nextUndelivered[1] then
  minId = nextUndelivered[1][1]
else
  local ms, seq = string.match(lastDelivered, '^(%d+)%-(%d+)$')
  minId = ms .. '-' .. (tonumber(seq) + 1)
end
local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
if summary[1] > 0 and less(summary[2], minId) then minId = summary[2] end
return {1, redis.call('XTRIM', KEYS[1], 'MINID', minId)}
