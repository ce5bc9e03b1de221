--[[
  renew-commands-1: reset the idle time of entries this consumer is still handling, but only of
  those it still owns (a blind XCLAIM would take back an entry another instance has reclaimed).

  KEYS[1] command stream
  ARGV[1] consumer group, ARGV[2] this consumer, ARGV[3..] entry ids

  Returns {1, lost entry id, …}: the entry ids another consumer owns now. An entry no longer
  pending at all was acknowledged (its commit acknowledges it before the handler's promise settles),
  so it is not lost.
]]
local lost = {1}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  elseif p[1] then
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
