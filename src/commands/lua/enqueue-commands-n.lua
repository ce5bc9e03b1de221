--[[
  enqueue-commands-n: put a batch of commands on the command stream, each once per command key
  (the commands a sender was given in one turn of its event loop: natural batching). Each command
  gets its own answer; one refused command does not stop the others.

  The backlog bound (COMMAND_BACKLOG_MAX) is checked against `{sc}:cmd:backlog`, the number of
  commands enqueued and not yet acknowledged (the group's lag + pending): incremented here for each
  command added, decremented by every script that acknowledges a command entry by the count XACK
  reports, so it stays exact without XINFO GROUPS per command. When the counter is missing (a new
  deployment, or deleted by hand) it is computed once from XINFO GROUPS.

  KEYS[1] command stream   {sc}:cmd
  KEYS[2] command backlog  {sc}:cmd:backlog
  then 1 per command i (1-based):
  KEYS[2 + i] command record  {sc}:c:<digest of userId:commandId>  ('s' once sent, then its
                              outcome: src/events/command-records.ts)

  ARGV[1] TTL of the records in seconds (COMMAND_DEDUP_TTL_S)
  ARGV[2] backlog limit (COMMAND_BACKLOG_MAX)
  ARGV[3] consumer group name
  ARGV[4] the number of commands
  then 4 per command: id, type, data, meta

  Returns {1, result of each command}, where a result is
    {1, entryId}          enqueued
    {0}                   enqueued before and not finished yet: nothing written
    {0, record}           handled before (its stored record): nothing written
    {-2, 'backlog-full', backlog}   the backlog is full: nothing written
]]
local cmdKey, backlogKey = KEYS[1], KEYS[2]
local ttl, limit, group, count = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])

-- lag + pending of the group from XINFO GROUPS (or the stream's length before the group exists)
local function countBacklog()
  if redis.call('EXISTS', cmdKey) == 0 then return 0 end
  local backlog = redis.call('XLEN', cmdKey)
  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', cmdKey)
  if ok then
    for _, g in ipairs(groups) do
      local info = {}
      for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
      if info['name'] == group and type(info['lag']) == 'number' then
        backlog = info['pending'] + info['lag']
      end
    end
  end
  return backlog
end

local backlog = tonumber(redis.call('GET', backlogKey))
if not backlog then
  backlog = countBacklog()
  redis.call('SET', backlogKey, backlog)
end

local results = {1}
local added = 0
for i = 1, count do
  local recordKey = KEYS[2 + i]
  local a = 5 + 4 * (i - 1)
  local record = redis.call('GET', recordKey)
  if record == 's' then
    results[#results + 1] = {0}
  elseif record then
    results[#results + 1] = {0, record}
  elseif backlog + added >= limit then
    results[#results + 1] = {-2, 'backlog-full', backlog + added}
  else
    redis.call('SET', recordKey, 's', 'EX', ttl)
    local id = redis.call('XADD', cmdKey, '*', 'id', ARGV[a], 'type', ARGV[a + 1],
      'data', ARGV[a + 2], 'meta', ARGV[a + 3])
    added = added + 1
    results[#results + 1] = {1, id}
  end
end
if added > 0 then redis.call('INCRBY', backlogKey, added) end
return results
