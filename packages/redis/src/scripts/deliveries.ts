import { LATER_LUA } from "./byte-order.js";

/**
 * Delivery log scripts. An entry lives in the organization's hash
 * `x` under its id, as `{"webhookId":…,"startedAt":…,"data":…}` with `data` last, and in its
 * endpoint's sorted set `h:<webhookId>` scored by `startedAt`: equal scores order by id, so the
 * set read backwards is the log's order, latest start first, then id descending.
 */

/**
 * Adds entries, or replaces the data of those already there (their webhookId and startedAt
 * stay), all in one atomic step. The entries may belong to several organizations: on Redis
 * Cluster, only to organizations of one bucket (one slot).
 * KEYS: 1 the first entry's entries hash (it routes the call to the right slot).
 * ARGV: for each entry: its organization base, id, webhookId, startedAt, the stored JSON up to
 *       and with `"data":`, the data JSON.
 */
export const LOG_DELIVERIES_SCRIPT = /* lua */ `
for i = 1, #ARGV, 6 do
  local org_base, id, data = ARGV[i], ARGV[i + 1], ARGV[i + 5]
  local entries = org_base .. 'x'
  local old = redis.call('HGET', entries, id)
  if old then
    -- JSON puts a backslash before every quote inside a string, so the first ',"data":' is the field's own.
    local cut = string.find(old, ',"data":', 1, true)
    redis.call('HSET', entries, id, string.sub(old, 1, cut + 7) .. data .. '}')
  else
    redis.call('HSET', entries, id, ARGV[i + 4] .. data .. '}')
    redis.call('ZADD', org_base .. 'h:' .. ARGV[i + 2], ARGV[i + 3], id)
  end
end
return 1
`;

/**
 * One page of an endpoint's log, in one round trip: the exact total, and the entries after the
 * cursor (or from the offset). A cursor names the last entry of the previous page by its score
 * and id; if that entry is gone, the page starts where it would be.
 * KEYS: 1 the endpoint's log, 2 the organization's entries hash.
 * ARGV: 1 'cursor' or 'offset', 2 the cursor's score or the offset, 3 the cursor's id, 4 limit.
 * Answers: total, 1 when more follow (else 0), then id and stored JSON of each entry.
 */
export const DELIVERY_LOG_SCRIPT = /* lua */ `
${LATER_LUA}
local log, entries, limit = KEYS[1], KEYS[2], tonumber(ARGV[4])
local total = redis.call('ZCARD', log)
local start = tonumber(ARGV[2])
if ARGV[1] == 'cursor' then
  local rank, score = redis.call('ZREVRANK', log, ARGV[3]), redis.call('ZSCORE', log, ARGV[3])
  if rank and tonumber(score) == start then
    start = rank + 1
  else
    local before = redis.call('ZCOUNT', log, '(' .. ARGV[2], '+inf')
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', log, ARGV[2], ARGV[2])) do
      if later(id, ARGV[3]) then before = before + 1 end
    end
    start = before
  end
end
local ids = redis.call('ZREVRANGE', log, start, start + limit)
local page = { total, #ids > limit and 1 or 0 }
for i = 1, math.min(#ids, limit) do
  local json = redis.call('HGET', entries, ids[i])
  if json then
    page[#page + 1] = ids[i]
    page[#page + 1] = json
  end
end
return page
`;
