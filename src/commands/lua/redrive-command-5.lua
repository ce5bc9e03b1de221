--[[
  redrive-command-5: send a dead-lettered command again under the same id: move it from the
  dead-letter stream back to the command stream and forget its `dead` outcome, in one step.

  KEYS[1] dead-letter stream  KEYS[2] command stream
  KEYS[3] command record {sc}:c:<digest>  KEYS[4] the same key (the record is sent again: 's')
  KEYS[5] command backlog {sc}:cmd:backlog (counts the command again; enqueue-commands-n)
  ARGV[1] command id  ARGV[2] TTL of the record in seconds  ARGV[3] the sender's user id

  Returns
    {1, new entry id}             sent again
    {-2, 'not-dead'}              no dead letter with that id, or the command is not dead (handled
                                  or answered): nothing written
]]
local done = redis.call('GET', KEYS[3])
if done and not string.find(done, '"kind":"dead"', 1, true) then return {-2, 'not-dead'} end
local entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 10000)
for _, entry in ipairs(entries) do
  local f = {}
  for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
  local meta = cjson.decode(f['meta'])
  if f['id'] == ARGV[1] and meta['userId'] == ARGV[3] then
    local id = redis.call('XADD', KEYS[2], '*', 'id', f['id'], 'type', f['type'], 'data', f['data'], 'meta', f['meta'])
    if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('INCR', KEYS[5]) end
    redis.call('XDEL', KEYS[1], entry[1])
    redis.call('SET', KEYS[4], 's', 'EX', ARGV[2])
    return {1, id}
  end
end
return {-2, 'not-dead'}
