--[[
  begin-rebuild-1: start a rebuild of a projection into a new generation, or resume the one in
  progress (an interrupted `npm run replay` resumes its generation from its checkpoint).

  KEYS[1] projection hash  {sc}:proj:<name>   fields generation, rebuild:generation,
                                                rebuild:checkpoint

  Returns {1, generation being rebuilt, its checkpoint ('0': from the start)}.
]]
local h = KEYS[1]
local g = redis.call('HGET', h, 'rebuild:generation')
if not g then
  g = tostring(tonumber(redis.call('HGET', h, 'generation') or '1') + 1)
  redis.call('HSET', h, 'rebuild:generation', g, 'rebuild:checkpoint', '0')
end
return {1, g, redis.call('HGET', h, 'rebuild:checkpoint')}
