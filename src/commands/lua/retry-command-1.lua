--[[
  retry-command-1: count one more handler run of an entry this consumer owns (its delivery count
  is the number of runs, COMMAND_MAX_ATTEMPTS caps it) and reset its idle time.

  KEYS[1] command stream
  ARGV[1] consumer group, ARGV[2] this consumer, ARGV[3] entry id

  Returns
    {1, deliveries}    the new delivery count
    {-1}               this consumer no longer owns the entry
]]
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not (p[1] and p[1][2] == ARGV[2]) then return {-1} end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3])
return {1, p[1][4] + 1}
