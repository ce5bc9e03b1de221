-- Extends a lease still held. KEYS: lease. ARGV: "<owner> <fence>", ttl ms. Returns 1 or 0.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
