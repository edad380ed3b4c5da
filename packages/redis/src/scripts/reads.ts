/**
 * One page of a list, in one round trip: the exact total, and the records' JSON, newest id first.
 * Before counting, it removes what retention ended (a terminal record whose keys' TTL ran out)
 * from the organization's indexes and alias hash, so the total never counts a record that is gone
 * and no alias names one.
 *
 * KEYS: 1 the list (kind, or kind and status).
 * ARGV: 1 organization base, 2 bucket base, 3 org, 4 kind, 5 'cursor' or 'offset',
 *       6 the cursor or the offset, 7 limit, 8 '1' when the store has retention.
 * Answers: total, 1 when more follow (else 0), then each record's JSON.
 */
export const LIST_SCRIPT = /* lua */ `
local list, org_base, bucket, org, kind, limit = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[7])

if ARGV[8] == '1' then
  local gone = org_base .. 'g:' .. kind
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local ids = redis.call('ZRANGEBYSCORE', gone, '-inf', now, 'LIMIT', 0, 1000)
  if #ids > 0 then
    local kind_list, alias_hash = org_base .. 'l:' .. kind, org_base .. 'a'
    local statuses = redis.call('SMEMBERS', org_base .. 't:' .. kind)
    for _, id in ipairs(ids) do
      redis.call('ZREM', kind_list, id)
      for _, status in ipairs(statuses) do redis.call('ZREM', kind_list .. ':' .. status, id) end
      -- The aliases its writes remembered, each only while it still names this record. A record
      -- written before the store remembered aliases has no such set: its aliases stay behind.
      -- One call an alias, not one unpack: a long-lived session can hold more than Lua unpacks.
      local remembered = org_base .. 'n:' .. id
      for _, name in ipairs(redis.call('SMEMBERS', remembered)) do
        if redis.call('HGET', alias_hash, name) == id then redis.call('HDEL', alias_hash, name) end
      end
      redis.call('DEL', org_base .. 'r:' .. id, org_base .. 'e:' .. id, remembered, org_base .. 'b:' .. id, org_base .. 'k:' .. id)
      redis.call('ZREM', bucket .. 'f:' .. kind, org .. ':' .. id)
      redis.call('HDEL', bucket .. 'id', id)
      redis.call('ZREM', bucket .. 'due', org .. ':' .. id)
    end
    redis.call('ZREM', gone, unpack(ids))
  end
end

local total = redis.call('ZCARD', list)
local ids
if ARGV[5] == 'cursor' then
  ids = redis.call('ZREVRANGEBYLEX', list, '(' .. ARGV[6], '-', 'LIMIT', 0, limit + 1)
else
  local offset = tonumber(ARGV[6])
  ids = redis.call('ZREVRANGE', list, offset, offset + limit)
end
local page = { total, #ids > limit and 1 or 0 }
for i = 1, math.min(#ids, limit) do
  page[#page + 1] = redis.call('HGET', org_base .. 'r:' .. ids[i], 'j') or ''
end
return page
`;

/**
 * Reserves an idempotency key unless a live entry holds it.
 * KEYS: 1 the key's hash. ARGV: 1 fingerprint, 2 expiresAt, 3 now, 4 TTL in ms.
 * Answers nil when reserved, else the live entry: fingerprint, expiresAt, response JSON or ''.
 */
export const RESERVE_IDEMPOTENCY_SCRIPT = /* lua */ `
local key = KEYS[1]
local held = redis.call('HMGET', key, 'f', 'x', 'r')
if held[2] and tonumber(held[2]) > tonumber(ARGV[3]) then
  return { held[1], held[2], held[3] or '' }
end
redis.call('DEL', key)
redis.call('HSET', key, 'f', ARGV[1], 'x', ARGV[2])
redis.call('PEXPIRE', key, ARGV[4])
return nil
`;

/**
 * Records the response of a reserved key, keeping its TTL; a key that is gone stays gone. With
 * the id of the record the request created, the entry names it (d), and the record's set of such
 * entries (k, kept as long as its longest-lived entry) names the entry, for purge to find.
 * KEYS: 1 the key's hash. ARGV: 1 response JSON, 2 the record id ('' for none), 3 the record's set.
 */
export const COMPLETE_IDEMPOTENCY_SCRIPT = /* lua */ `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'r', ARGV[1])
  if ARGV[2] ~= '' then
    redis.call('HSET', KEYS[1], 'd', ARGV[2])
    redis.call('SADD', ARGV[3], KEYS[1])
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl > redis.call('PTTL', ARGV[3]) then redis.call('PEXPIRE', ARGV[3], ttl) end
  end
end
return 1
`;
