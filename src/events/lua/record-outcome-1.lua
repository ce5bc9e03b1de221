--[[
  record-outcome-1: record a non-append outcome (a domain error, a dead command) for an
  idempotency key, unless one is recorded already, and publish the reply.

  KEYS[1] outcome key   {sc}:done:<idempotencyKey>
  ARGV[1] outcome JSON
  ARGV[2] TTL in seconds
  ARGV[3] reply channel, '' for none
  ARGV[4] idempotency key (the reply message)

  Returns
    {1}                recorded
    {0, outcome JSON}  an outcome was recorded already: nothing written
]]
local done = redis.call('GET', KEYS[1])
if done then return {0, done} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return {1}
