--[[
  ack-command-2: acknowledge a command entry that was handled without a commit (its outcome was
  recorded before) and count it off the backlog (see enqueue-commands-n).

  KEYS[1] command stream   {sc}:cmd
  KEYS[2] command backlog  {sc}:cmd:backlog
  ARGV[1] consumer group   ARGV[2] entry id

  Returns {1, acknowledged (0 when the entry was acknowledged before)}
]]
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if acked > 0 and redis.call('EXISTS', KEYS[2]) == 1 then redis.call('DECRBY', KEYS[2], acked) end
return {1, acked}
