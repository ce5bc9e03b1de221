--[[
  enqueue-command-3: put a command on the command stream once per command id.

  KEYS[1] sent marker     {sc}:sent:<userId>:<commandId>
  KEYS[2] outcome key     {sc}:done:<userId>:<commandId>
  KEYS[3] command stream  {sc}:cmd
  ARGV[1] TTL of the sent marker in seconds (COMMAND_DEDUP_TTL_S)
  ARGV[2] backlog limit (COMMAND_BACKLOG_MAX): lag + pending of the group
  ARGV[3] consumer group name
  ARGV[4..7] command fields: id, type, data, meta
  ARGV[8] the sender's user id (kept in the sent marker, so only they and admins see its status)

  Returns
    {1, entryId}                     enqueued
    {0}                              enqueued before and not finished yet: nothing written
    {0, outcome JSON}                handled before: nothing written
    {-2, 'backlog-full', backlog}    the backlog is full: nothing written
]]
local done = redis.call('GET', KEYS[2])
if done then return {0, done} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end

local backlog = 0
if redis.call('EXISTS', KEYS[3]) == 1 then
  backlog = redis.call('XLEN', KEYS[3])
  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[3])
  if ok then
    for _, g in ipairs(groups) do
      local info = {}
      for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
      if info['name'] == ARGV[3] and type(info['lag']) == 'number' then
        backlog = info['pending'] + info['lag']
      end
    end
  end
end
if backlog >= tonumber(ARGV[2]) then return {-2, 'backlog-full', backlog} end

redis.call('SET', KEYS[1], ARGV[8], 'EX', ARGV[1])
local id = redis.call('XADD', KEYS[3], '*', 'id', ARGV[4], 'type', ARGV[5], 'data', ARGV[6], 'meta', ARGV[7])
return {1, id}
