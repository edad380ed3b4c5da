import { LATER_LUA } from "./byte-order.js";

/**
 * Removes (or counts) one bucket's terminal records of one kind last written before a moment,
 * oldest first, with everything of theirs, in one atomic script. The bucket's `f:<kind>` index
 * holds `<org>:<id>` → `updatedAt` for every record a write left in a terminal status with no
 * deadline; each candidate's status is checked again against the statuses core passes.
 *
 * KEYS: 1 the bucket's index `{P:07}:f:<kind>`.
 * ARGV: 1 bucket base, 2 kind, 3 before (exclusive), 4 limit, 5 '1' for a dry run, 6 the cursor's
 *       score ('' for none), 7 the cursor's member, then the statuses.
 * Answers: records, events, delivery log entries, aliases, idempotency entries, outbox messages,
 * how many index entries it visited, and the last visited entry's score and member ('' when none).
 */
export const PURGE_SCRIPT = /* lua */ `
local index, bucket, kind = KEYS[1], ARGV[1], ARGV[2]
local before, limit, dry = ARGV[3], tonumber(ARGV[4]), ARGV[5] == '1'
local cursor_score, cursor_member = tonumber(ARGV[6]), ARGV[7]
local statuses = {}
for i = 8, #ARGV do statuses[ARGV[i]] = true end

${LATER_LUA}

-- Up to limit entries after the cursor, in the index's order.
local visit, offset = {}, 0
while #visit < limit do
  local page = redis.call('ZRANGEBYSCORE', index, cursor_score or '-inf', '(' .. before, 'WITHSCORES', 'LIMIT', offset, limit)
  if #page == 0 then break end
  for i = 1, #page, 2 do
    local score = tonumber(page[i + 1])
    if #visit < limit and (not cursor_score or score > cursor_score or later(page[i], cursor_member)) then
      visit[#visit + 1] = { page[i], page[i + 1] }
    end
  end
  offset = offset + #page / 2
end

local records, events, deliveries, aliases, idempotency, outbox = 0, 0, 0, 0, 0, 0
for _, entry in ipairs(visit) do
  local member = entry[1]
  local colon = string.find(member, ':', 1, true)
  local org, id = string.sub(member, 1, colon - 1), string.sub(member, colon + 1)
  local base = bucket .. 'o:' .. org .. ':'
  local rec = base .. 'r:' .. id
  local fields = redis.call('HMGET', rec, 's', 'd')
  if not fields[1] then
    if not dry then redis.call('ZREM', index, member) end -- gone already (retention's TTL)
  elseif statuses[fields[1]] and (not fields[2] or fields[2] == '') then
    records = records + 1
    events = events + redis.call('LLEN', base .. 'e:' .. id)
    local alias_hash, remembered = base .. 'a', base .. 'n:' .. id
    for _, name in ipairs(redis.call('SMEMBERS', remembered)) do
      if redis.call('HGET', alias_hash, name) == id then
        aliases = aliases + 1
        if not dry then redis.call('HDEL', alias_hash, name) end
      end
    end
    local waiting = base .. 'b:' .. id
    for _, message_id in ipairs(redis.call('SMEMBERS', waiting)) do
      local message = bucket .. 'm:' .. message_id
      local topic = redis.call('HGET', message, 'p')
      if topic then
        outbox = outbox + 1
        if not dry then
          redis.call('DEL', message)
          redis.call('ZREM', bucket .. 'q', message_id)
          redis.call('ZREM', bucket .. 'q:' .. topic, message_id)
        end
      end
    end
    local log = base .. 'h:' .. id
    if dry then
      deliveries = deliveries + redis.call('ZCARD', log)
    else
      local logged, entries = redis.call('ZRANGE', log, 0, -1), base .. 'x'
      deliveries = deliveries + #logged
      for _, entry_id in ipairs(logged) do redis.call('HDEL', entries, entry_id) end
    end
    local keys = base .. 'k:' .. id
    for _, key in ipairs(redis.call('SMEMBERS', keys)) do
      if redis.call('HGET', key, 'd') == id then
        idempotency = idempotency + 1
        if not dry then redis.call('DEL', key) end
      end
    end
    if not dry then
      redis.call('DEL', rec, base .. 'e:' .. id, remembered, waiting, keys, log)
      redis.call('ZREM', base .. 'l:' .. kind, id)
      redis.call('ZREM', base .. 'l:' .. kind .. ':' .. fields[1], id)
      redis.call('ZREM', base .. 'd:' .. kind, id)
      redis.call('ZREM', base .. 'g:' .. kind, id)
      redis.call('HDEL', bucket .. 'id', id)
      redis.call('ZREM', bucket .. 'due', member)
      redis.call('ZREM', index, member)
    end
  end
end
local last = visit[#visit]
return { records, events, deliveries, aliases, idempotency, outbox, #visit, last and last[2] or '', last and last[1] or '' }
`;
