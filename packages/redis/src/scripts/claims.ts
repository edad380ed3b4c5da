/**
 * Lease scripts, one bucket per call. A queue's score is when its member may next be handed out:
 * its due time (or availableAt), or, once leased, the end of the lease. Claiming moves the score
 * to the end of the lease, so a lease that runs out makes the member claimable again, and a write
 * or a settle that moves the score ends the lease.
 */

/**
 * Leases up to ARGV[3] due records of one bucket, earliest first.
 * KEYS: 1 due queue. ARGV: 1 bucket base, 2 now, 3 limit, 4 lease end.
 * Answers a flat array: org, id, kind, dueAt and the record JSON for each claim.
 */
export const CLAIM_DUE_SCRIPT = /* lua */ `
local due, bucket, lease_until = KEYS[1], ARGV[1], ARGV[4]
local members = redis.call('ZRANGEBYSCORE', due, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local claims = {}
for _, member in ipairs(members) do
  local colon = string.find(member, ':', 1, true)
  local org, id = string.sub(member, 1, colon - 1), string.sub(member, colon + 1)
  local fields = redis.call('HMGET', bucket .. 'o:' .. org .. ':r:' .. id, 'k', 'd', 'j')
  if fields[1] and fields[2] and fields[2] ~= '' then
    redis.call('ZADD', due, lease_until, member)
    claims[#claims + 1] = org
    claims[#claims + 1] = id
    claims[#claims + 1] = fields[1]
    claims[#claims + 1] = fields[2]
    claims[#claims + 1] = fields[3]
  else
    redis.call('ZREM', due, member) -- the record is gone (retention): forget its deadline
  end
end
return claims
`;

/**
 * Leases up to ARGV[3] available outbox messages of one bucket, earliest first.
 * KEYS: 1 the queue to take from (all topics, or one topic's). ARGV: 1 bucket base, 2 now,
 * 3 limit, 4 lease end, 5 owner.
 * Adds one to each claimed message's attempts. Answers a flat array: id, message JSON, attempts
 * (this claim included), last error ('' for none, else '!' and the error), availableAt for each
 * claim.
 */
export const CLAIM_OUTBOX_SCRIPT = /* lua */ `
local source, bucket, lease_until, owner = KEYS[1], ARGV[1], ARGV[4], ARGV[5]
local ids = redis.call('ZRANGEBYSCORE', source, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local claims = {}
for _, id in ipairs(ids) do
  local message = bucket .. 'm:' .. id
  local fields = redis.call('HMGET', message, 'm', 'p', 'e', 't', 'a')
  if fields[1] then
    local attempts = (tonumber(fields[5]) or 0) + 1 -- every claim is an attempt, one abandoned included
    redis.call('HSET', message, 'o', owner, 'a', attempts)
    -- The message sits in the all-topics queue and in its topic's: both leases move together.
    redis.call('ZADD', bucket .. 'q', lease_until, id)
    redis.call('ZADD', bucket .. 'q:' .. fields[2], lease_until, id)
    claims[#claims + 1] = id
    claims[#claims + 1] = fields[1]
    claims[#claims + 1] = attempts
    claims[#claims + 1] = fields[3] and ('!' .. fields[3]) or ''
    claims[#claims + 1] = fields[4]
  else
    redis.call('ZREM', source, id)
  end
end
return claims
`;

/**
 * Finishes or reschedules an outbox message; only its lease holder may.
 * KEYS: 1 the message hash. ARGV: 1 bucket base, 2 id, 3 owner, 4 retryAt ('' to finish),
 * 5 error ('' for none, else '!' and the error). Answers 1, or 0 for anyone but the holder.
 */
export const SETTLE_OUTBOX_SCRIPT = /* lua */ `
local message, bucket, id = KEYS[1], ARGV[1], ARGV[2]
local fields = redis.call('HMGET', message, 'o', 'p', 'b')
if fields[1] ~= ARGV[3] then return 0 end
local all, topic = bucket .. 'q', bucket .. 'q:' .. fields[2]
if ARGV[4] == '' then
  redis.call('DEL', message)
  if fields[3] then redis.call('SREM', fields[3], id) end -- no longer waiting: purge has nothing to remove
  redis.call('ZREM', all, id)
  redis.call('ZREM', topic, id)
  return 1
end
redis.call('HSET', message, 'o', '', 't', ARGV[4])
if ARGV[5] == '' then
  redis.call('HDEL', message, 'e')
else
  redis.call('HSET', message, 'e', string.sub(ARGV[5], 2))
end
redis.call('ZADD', all, ARGV[4], id)
redis.call('ZADD', topic, ARGV[4], id)
return 1
`;

/**
 * Finishes outbox messages of one bucket that one owner holds: each is deleted as
 * SETTLE_OUTBOX_SCRIPT deletes a finished message, and answers 1, or 0 for anyone but the holder
 * (a message named twice is finished by the first: the second answers 0).
 * KEYS: 1 the bucket's all-topics queue. ARGV: 1 bucket base, 2 owner, then the ids.
 */
export const FINISH_OUTBOX_SCRIPT = /* lua */ `
local all, bucket, owner = KEYS[1], ARGV[1], ARGV[2]
local answers = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local message = bucket .. 'm:' .. id
  local fields = redis.call('HMGET', message, 'o', 'p', 'b')
  if fields[1] == owner then
    redis.call('DEL', message)
    if fields[3] then redis.call('SREM', fields[3], id) end
    redis.call('ZREM', all, id)
    redis.call('ZREM', bucket .. 'q:' .. fields[2], id)
    answers[#answers + 1] = 1
  else
    answers[#answers + 1] = 0
  end
end
return answers
`;

/**
 * Extends the leases one owner still holds on outbox messages of one bucket: a message whose
 * owner field names it (a lease that ran out and nobody claimed since included). Both its queues
 * move to the new lease end, so no claim takes it before then.
 * KEYS: 1 the bucket's all-topics queue. ARGV: 1 bucket base, 2 owner, 3 lease end, then the ids.
 * Answers the ids it extended.
 */
export const RENEW_OUTBOX_SCRIPT = /* lua */ `
local all, bucket, owner, lease_until = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local renewed = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local fields = redis.call('HMGET', bucket .. 'm:' .. id, 'o', 'p')
  if fields[1] == owner then
    redis.call('ZADD', all, lease_until, id)
    redis.call('ZADD', bucket .. 'q:' .. fields[2], lease_until, id)
    renewed[#renewed + 1] = id
  end
end
return renewed
`;

/**
 * Reads the leases of outbox messages of one bucket, those still there.
 * KEYS: 1 the bucket's all-topics queue. ARGV: 1 bucket base, then the ids.
 * Answers a flat array: id, attempts, owner ('' for none), lease end ('0' for none) for each.
 */
export const OUTBOX_LEASES_SCRIPT = /* lua */ `
local all, bucket = KEYS[1], ARGV[1]
local leases = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local fields = redis.call('HMGET', bucket .. 'm:' .. id, 'a', 'o')
  if fields[1] then
    local owner = fields[2] or ''
    leases[#leases + 1] = id
    leases[#leases + 1] = fields[1]
    leases[#leases + 1] = owner
    leases[#leases + 1] = owner == '' and '0' or (redis.call('ZSCORE', all, id) or '0')
  end
end
return leases
`;
