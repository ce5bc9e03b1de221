--[[
  confirm-outcomes-n: the second half of an answer under REDIS_WAIT_REPLICAS (DESIGN.md §8). With
  n > 0 an outcome is written "not yet confirmed" (its JSON behind a `~`) and nobody answers with
  it until a WAIT has seen n replicas take it. Replication is ordered, so a WAIT that counts from
  any later write on the same node covers the outcome too.

  KEYS[i] outcome key  {sc}:done:<key>   (one slot: one partition's keys)
  ARGV[1] mode
    'touch'   rewrite every unconfirmed outcome unchanged (KEEPTTL): the write a reader's WAIT
              counts from, when the outcome was written by another connection
    'confirm' strip the marker (only after a WAIT saw n replicas) and publish each outcome on its
              reply channel, one message per channel, `<key>\t<outcome>` per line
  then 2 per key i: the key (`<userId>:<commandId>` or a step key), its reply channel ('' for none)

  Returns {1, outcome of each key (confirmed text; '' when the key has none)}
]]
local mode = ARGV[1]
local results = {1}
local replies, channels = {}, {}
for i = 1, #KEYS do
  local outcome = redis.call('GET', KEYS[i])
  local unconfirmed = outcome and string.sub(outcome, 1, 1) == '~'
  if unconfirmed and mode == 'touch' then
    redis.call('SET', KEYS[i], outcome, 'KEEPTTL')
  elseif unconfirmed then
    outcome = string.sub(outcome, 2)
    redis.call('SET', KEYS[i], outcome, 'KEEPTTL')
  end
  if mode == 'confirm' and outcome and ARGV[2 * i + 1] ~= '' then
    local channel = ARGV[2 * i + 1]
    if not replies[channel] then
      replies[channel] = {}
      channels[#channels + 1] = channel
    end
    local lines = replies[channel]
    lines[#lines + 1] = ARGV[2 * i] .. '\t' .. outcome
  end
  results[#results + 1] = outcome or ''
end
for _, channel in ipairs(channels) do
  redis.call('SPUBLISH', channel, table.concat(replies[channel], '\n'))
end
return results
