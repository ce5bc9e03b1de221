--[[
  renew-epoch-1: start a new epoch of the notifications stream (DESIGN.md G5) when an instance
  found loss: only if the epoch is still the one it saw (another instance may have renewed it
  first) or is gone. Either way the epoch now current is answered.

  KEYS[1] epoch  {sc}:notify:epoch
  ARGV[1] the epoch the caller saw
  ARGV[2] a new epoch

  Returns {1, epoch now current}.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] or redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[2])
end
return {1, redis.call('GET', KEYS[1])}
