-- Starts or resumes a rebuild. KEYS: projection hash. Returns {generation, checkpoint}.
local h = KEYS[1]
local g = redis.call('HGET', h, 'rebuild:generation')
if not g then
  g = tostring(tonumber(redis.call('HGET', h, 'generation') or '1') + 1)
  redis.call('HSET', h, 'rebuild:generation', g, 'rebuild:checkpoint', '0')
end
return {g, redis.call('HGET', h, 'rebuild:checkpoint')}
