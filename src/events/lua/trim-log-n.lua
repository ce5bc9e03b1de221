--[[
  trim-log-n: retention of one partition's log (DESIGN.md §9), one bounded step. Removes the
  oldest log entries that are all of: at or below the archive's checkpoint, at or below every
  projection's checkpoint, older than the retention, and not the newest entry (a stream's last id
  and the log's head stay readable). Records the newest id removed in the trim mark, which stitched
  reads compare their cursor with (log-tiers.ts). Safe to run from any instance at any time: the
  bounds are read here, in one atomic step, and a run that finds nothing to do writes nothing.

  KEYS[1] global log            {sc}:all
  KEYS[2] trim mark             {sc}:all:trimmed     newest entry id removed (string)
  KEYS[3..] projection hashes   {sc}:proj:<name>     field `checkpoint` ('0' or absent: none yet)

  ARGV[1] archived up to: an entry id, or '' when there is no archive (no bound)
  ARGV[2] retention in ms, or '' for none (with an archive: trimmed as soon as archived)
  ARGV[3] most entries to remove in this step

  Returns {1, removed, newest id removed or '', then (stream id, newest version removed) * k}
]]
local logKey, markKey = KEYS[1], KEYS[2]
local archived, retention, most = ARGV[1], ARGV[2], tonumber(ARGV[3])

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end

local newest = redis.call('XREVRANGE', logKey, '+', '-', 'COUNT', 1)[1]
if not newest then return {1, 0, ''} end
local upTo = newest[1]     -- inclusive bound, then the newest itself is excluded below
if archived ~= '' and less(archived, upTo) then upTo = archived end
for i = 3, #KEYS do
  local checkpoint = redis.call('HGET', KEYS[i], 'checkpoint')
  if not checkpoint or checkpoint == '0' then return {1, 0, ''} end
  checkpoint = string.gsub(checkpoint, '^%d+:', '')
  if less(checkpoint, upTo) then upTo = checkpoint end
end
local before -- entries must be older than this id (retention), if any
if retention ~= '' then
  local now = redis.call('TIME')
  before = (tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(retention))
    .. '-0'
end

local entries = redis.call('XRANGE', logKey, '-', upTo, 'COUNT', most)
local last
local streams, order = {}, {}
for _, entry in ipairs(entries) do
  local id = entry[1]
  if id == newest[1] or (before and not less(id, before)) then break end
  last = id
  local fields = entry[2]
  local stream, version
  for f = 1, #fields, 2 do
    if fields[f] == 'stream' then stream = fields[f + 1] end
    if fields[f] == 'version' then version = tonumber(fields[f + 1]) end
  end
  if stream then
    if not streams[stream] then order[#order + 1] = stream end
    streams[stream] = version
  end
end
if not last then return {1, 0, ''} end

local ms, seq = string.match(last, '^(%d+)-(%d+)$')
local removed = redis.call('XTRIM', logKey, 'MINID', ms .. '-' .. string.format('%d', seq + 1))
redis.call('SET', markKey, last)
local result = {1, removed, last}
for _, stream in ipairs(order) do
  result[#result + 1] = stream
  result[#result + 1] = streams[stream]
end
return result
