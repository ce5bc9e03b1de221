-- Gives up a lease still held. KEYS: lease. ARGV: "<owner> <fence>".
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
