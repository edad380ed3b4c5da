/**
 * The transition scripts. Each runs as one EVALSHA and touches only keys of one bucket (one
 * hash slot), so it is atomic on a single Redis and on Redis Cluster alike.
 *
 * KEYS: 1 record hash, 2 event list, 3 alias hash, 4 kind list, 5 id → org hash, 6 due queue,
 *       7 outbox queue; for a capped insert, 8 the kind list of the limit's status
 * ARGV: 1 bucket base `{P:07}:`, 2 organization base `{P:07}:o:<org>:`, 3 write token,
 *       4 expected version, 5 id, 6 org, 7 kind, 8 status, 9 version, 10 dueAt ('' for none),
 *       11 record JSON, 12 retention in ms ('0' for none), 13 '1' to remember the record's aliases
 *       (a kind purge or retention may remove), 14 the record's `updatedAt` when it is terminal with
 *       no deadline (what `purge` may remove), else '', 15 alias count, the aliases, then the event
 *       count, the events (JSON),
 *       then the message count and 4 values a message: id, topic, availableAt, JSON; for a capped
 *       insert, last, the limit's maximum.
 *
 * The write token makes a script safe to run twice: a connection that drops after Redis applied a
 * write but before the reply arrived gets the command resent (by ioredis, or by the store), and
 * the second run finds its token among the record's last eight and answers "applied" again
 * instead of "stale version", so the engine never applies a command twice.
 *
 * Redis does not undo a script that fails half-way, so every check runs before the first write,
 * and no call can fail on the size of a write: long argument lists go in chunks (`push_all`).
 */
const PRELUDE = /* lua */ `
local rec, events, aliases, list, owners, due, queue = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local bucket, org_base, token = ARGV[1], ARGV[2], ',' .. ARGV[3] .. ','
local id, org, kind, status, due_at = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[10]
local retention = tonumber(ARGV[12])
local deadlines = org_base .. 'd:' .. kind
local remember_aliases = ARGV[13] == '1'
local terminal_since = ARGV[14]
-- The bucket's terminal records of the kind, by their last write: what purge visits.
local terminal_index = bucket .. 'f:' .. kind

-- Where each variable-length part of ARGV starts and ends.
local n_aliases = tonumber(ARGV[15])
local first_alias, last_alias = 16, 15 + n_aliases
local at_events = last_alias + 1
local n_events = tonumber(ARGV[at_events])
local at_messages = at_events + 1 + n_events
local n_messages = tonumber(ARGV[at_messages])

-- The first alias that names another record in this organization, if any.
local function taken_alias()
  for i = first_alias, last_alias do
    local holder = redis.call('HGET', aliases, ARGV[i])
    if holder and holder ~= id then return ARGV[i] end
  end
  return nil
end

-- Lua's unpack fails past about 8,000 values: a command with ARGV[from..to] is sent in chunks.
local function push_all(command, key, from, to)
  for i = from, to, 1000 do
    redis.call(command, key, unpack(ARGV, i, math.min(i + 999, to)))
  end
end

-- ',t1,t2,…,' newest first; tokens are 16 characters, so eight of them and their commas are 137.
local function with_token(previous)
  return string.sub(token .. string.sub(previous or ',', 2), 1, 137)
end

-- Everything a write changes besides the record hash: status lists, events, aliases, the due
-- queue, the outbox and retention. old_status and old_due are nil for an insert.
local function write_parts(old_status, old_due, was_retained)
  if old_status ~= status then
    if old_status then redis.call('ZREM', list .. ':' .. old_status, id) end
    redis.call('ZADD', list .. ':' .. status, 0, id)
  end
  if n_events > 0 then
    push_all('RPUSH', events, at_events + 1, at_events + n_events)
  end
  if n_aliases > 0 then
    for i = first_alias, last_alias do
      redis.call('HSET', aliases, ARGV[i], id)
    end
    -- Purge or retention may remove this record one day, and the scripts that do so only know its
    -- id: they find the aliases to remove here. No TTL, as the record's keys are gone by then.
    if remember_aliases then
      push_all('SADD', org_base .. 'n:' .. id, first_alias, last_alias)
    end
  end
  -- A write always replaces the due entry, which also ends any lease a claimer held on it. A
  -- record that had no deadline and gets none has no entry to remove. The organization's
  -- deadlines of the kind (for listDue) know no leases: they change only when the deadline does.
  if due_at == '' then
    if old_due and old_due ~= '' then
      redis.call('ZREM', due, org .. ':' .. id)
      redis.call('ZREM', deadlines, id)
    end
  else
    redis.call('ZADD', due, due_at, org .. ':' .. id)
    if due_at ~= old_due then redis.call('ZADD', deadlines, due_at, id) end
  end
  if terminal_since ~= '' then
    redis.call('ZADD', terminal_index, terminal_since, org .. ':' .. id)
  elseif old_status then
    redis.call('ZREM', terminal_index, org .. ':' .. id)
  end
  -- Each message also names the set of its record's waiting messages (b), which settling leaves
  -- and purge empties: a purged record takes its waiting messages with it.
  local waiting = org_base .. 'b:' .. id
  for i = at_messages + 1, at_messages + 4 * n_messages, 4 do
    local message_id, topic, available_at = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local message = bucket .. 'm:' .. message_id
    if redis.call('EXISTS', message) == 0 then
      redis.call('HSET', message, 'm', ARGV[i + 3], 'p', topic, 'a', 0, 't', available_at, 'b', waiting)
      redis.call('SADD', waiting, message_id)
      redis.call('ZADD', queue, available_at, message_id)
      redis.call('ZADD', queue .. ':' .. topic, available_at, message_id)
    end
  end
  -- Retention: a terminal record's keys get a TTL to reclaim space; its index entries are
  -- removed by the list script when that time comes (so list totals stay exact).
  if retention > 0 then
    local time = redis.call('TIME')
    local until_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + retention
    redis.call('PEXPIRE', rec, retention)
    redis.call('PEXPIRE', events, retention)
    redis.call('HSET', rec, 'x', 1)
    redis.call('ZADD', org_base .. 'g:' .. kind, until_ms, id)
    redis.call('SADD', org_base .. 't:' .. kind, status)
  elseif was_retained then
    redis.call('PERSIST', rec)
    redis.call('PERSIST', events)
    redis.call('HDEL', rec, 'x')
    redis.call('ZREM', org_base .. 'g:' .. kind, id)
  end
end
`;

/** An insert script, with `guard` run once the record is known to be new: it may refuse with a return. */
function insertScript(guard: string): string {
  return `${PRELUDE}
if redis.call('EXISTS', rec) == 1 then
  local tokens = redis.call('HGET', rec, 'w')
  if tokens and string.find(tokens, token, 1, true) then return 1 end -- our own insert, resent
  return id
end
${guard}
if redis.call('HEXISTS', owners, id) == 1 then return id end
for i = first_alias, last_alias do
  if redis.call('HEXISTS', aliases, ARGV[i]) == 1 then return ARGV[i] end
end
redis.call('HSET', rec, 'v', ARGV[9], 's', status, 'k', kind, 'd', due_at, 'j', ARGV[11], 'w', with_token(nil))
redis.call('HSET', owners, id, org)
redis.call('ZADD', list, 0, id)
write_parts(nil, nil, false)
return 1
`;
}

/** Inserts a record: answers 1, or the id or alias that is already taken. */
export const INSERT_SCRIPT = insertScript("");

/**
 * Inserts a record while the kind list of the limit's status (KEYS[8]) holds fewer ids than the
 * last argument: answers 1, 0 when that list is full, or the id or alias that is taken. One
 * script, so no other write comes between the count and the insert. Retention never removes a
 * record of a status that is not terminal, so the list of such a status counts exactly.
 */
export const INSERT_WITHIN_LIMIT_SCRIPT = insertScript(
  "if redis.call('ZCARD', KEYS[8]) >= tonumber(ARGV[#ARGV]) then return 0 end -- the limit is reached",
);

/** Replaces a record iff its version is the expected one: answers 1 (written) or 0 (refused). */
export const COMPARE_AND_SET_SCRIPT = `${PRELUDE}
local current = redis.call('HMGET', rec, 'v', 's', 'w', 'x', 'd')
if not current[1] then return 0 end -- absent, or another organization's (its key differs)
if current[3] and string.find(current[3], token, 1, true) then return 1 end -- our own write, resent
if current[1] ~= ARGV[4] then return 0 end
if taken_alias() then return 0 end
redis.call('HSET', rec, 'v', ARGV[9], 's', status, 'd', due_at, 'j', ARGV[11], 'w', with_token(current[3]))
write_parts(current[2], current[5], current[4] ~= false)
return 1
`;
