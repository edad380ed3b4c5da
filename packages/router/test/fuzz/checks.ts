// The checks that judge a request by what it carried: JSON past the one boundary of free-form
// values is refused, ids that cannot be ids never reach the store, near misses of real ids find
// nothing, an organization never sees the other's ids or anyone's webhook secret, and valid reads
// and valid submissions of an open hosted form succeed.
import { couldBeId, Mutated } from "./path-ids.js";
import { Deep, Entries, FormValues, Huge, RawJson, type Recipe, Special } from "./recipes.js";
import type { Sent } from "./requests.js";
import type { Observed, Problem } from "./responses.js";
import { kindsOf } from "./steps.js";
import type { World } from "./world.js";

const LEAK_SCAN_LIMIT = 200_000;
/** A NUL, or a UTF-16 surrogate without its other half. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is what this pattern looks for
const NOT_WELL_FORMED = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What in a JSON body the one boundary of issue 16 item 1 refuses wherever it stands: nesting past
 * 32 levels, a key past 200 characters, a NUL or a lone surrogate, a number that is not finite.
 * A typed field refuses these too (as the wrong type or an unknown field), so each is a refusal.
 */
function pastTheBoundary(root: Recipe): string | null {
  const stack: Recipe[] = [root];
  const text = (value: string, what: string) =>
    NOT_WELL_FORMED.test(value) ? `${what} ${JSON.stringify(value.slice(0, 20))} is not well-formed text` : null;
  while (stack.length > 0) {
    const node = stack.pop()!;
    let found: string | null = null;
    if (typeof node === "string") found = text(node, "a string");
    // Past 33, so that it is past the limit however its place in the body and the root's own level are counted.
    else if (node instanceof Deep && node.depth > 33) found = `a value nested ${node.depth} levels`;
    else if (node instanceof Huge) found = text(node.unit, "a string of");
    else if (node instanceof RawJson && !Number.isFinite(Number(node.text)) && /^-?\d/.test(node.text)) found = `the number ${node.label()}`;
    else if (node instanceof Entries) {
      // A key given twice keeps its last value, as JSON.parse reads it: only that value is judged.
      const last = new Map<string, Recipe>();
      for (const [key, value] of node.pairs) last.set(key, value);
      for (const [key, value] of last) {
        found ??= key.length > 200 ? `a key of ${key.length} characters` : text(key, "the key");
        stack.push(value);
      }
    } else if (Array.isArray(node)) stack.push(...node);
    else if (node !== null && typeof node === "object" && !(node instanceof Special)) {
      for (const [key, value] of Object.entries(node)) {
        found ??= key.length > 200 ? `a key of ${key.length} characters` : text(key, "the key");
        stack.push(value);
      }
    }
    if (found) return found;
  }
  return null;
}

/** A JSON body past the boundary of free-form values must be refused. */
export function boundaryProblems(sent: Sent, observed: Observed): Problem[] {
  const body = sent.step.body;
  if (observed.status >= 300 || sent.method !== sent.operation.method || !body || !("json" in body)) return [];
  const found = pastTheBoundary(body.json);
  return found ? [{ rule: "boundary not kept", detail: `answered ${observed.status} to a body with ${found}` }] : [];
}

/**
 * What a request that names no record may answer: 404 when nothing but its path can be judged (no
 * body, no query, the route's own method, a key that works, no Idempotency-Key); with a body, a
 * refusal of the body may come first. `null` when the request is not judged this way.
 */
export function notFoundAnswers(sent: Sent): readonly number[] | null {
  const { step } = sent;
  if (step.twist !== null || step.query.length > 0 || step.idempotencyKey !== null || (sent.org === null && !sent.operation.public)) return null;
  // A segment that is not percent-encoded UTF-8 makes the URL itself malformed: a 400 before any id is judged.
  if (sent.body === null) return sent.path.some((part) => part.value === null) ? [400, 404] : [404];
  return step.valid ? [400, 404] : null;
}

function mentions(args: readonly unknown[], value: string): boolean {
  return args.some((arg) => typeof arg === "string" && (arg === value || (value.length > 0 && arg.includes(value))));
}

/** Path ids that cannot be ids (404 before any store is asked) and near misses of real ones (404). */
export function pathProblems(sent: Sent, observed: Observed, world: World, count: (check: string) => void = () => {}): Problem[] {
  const problems: Problem[] = [];
  const { a, b } = world.pools;
  const reached = sent.org !== null || sent.operation.public;
  const allowed = notFoundAnswers(sent);
  for (const part of sent.path) {
    const value = part.value;
    const real = value !== null && (a.known.has(value) || b.known.has(value) || a.formOfSlug.has(value) || b.formOfSlug.has(value));
    if (value === null || !couldBeId(value)) {
      count("id that cannot be an id");
      const asked = world.calls.filter((call) => mentions(call.args, value ?? part.text));
      if (asked.length > 0) {
        problems.push({
          rule: "store asked for an impossible id",
          detail: `${JSON.stringify(value ?? part.text).slice(0, 80)} reached store.${asked[0]!.method}`,
        });
      }
      if (reached && observed.status < 300)
        problems.push({ rule: "impossible id answered 2xx", detail: `${part.text.slice(0, 80)} answered ${observed.status}` });
      else if (allowed && !allowed.includes(observed.status)) {
        problems.push({ rule: "impossible id not 404", detail: `${part.text.slice(0, 80)} answered ${observed.status}` });
      }
    } else if (part.source instanceof Mutated && !real) {
      count("near miss of a real id");
      if (reached && observed.status < 300)
        problems.push({ rule: "near miss of an id answered 2xx", detail: `${part.source.how}: ${part.text} answered ${observed.status}` });
      else if (allowed && !allowed.includes(observed.status))
        problems.push({ rule: "near miss of an id not 404", detail: `${part.source.how}: ${part.text} answered ${observed.status}` });
    }
  }
  return problems;
}

/** Ids, the organization id and webhook secrets that an answer must not show. */
export function leakProblems(sent: Sent, observed: Observed, world: World): Problem[] {
  const problems: Problem[] = [];
  const text = observed.text;
  if (text.length > LEAK_SCAN_LIMIT) return problems;
  if (sent.operation.name !== "POST /v1/webhooks") {
    for (const secret of [...world.pools.a.secrets, ...world.pools.b.secrets]) {
      if (text.includes(secret)) problems.push({ rule: "webhook secret shown again", detail: `${secret.slice(0, 12)}… in ${sent.operation.name}` });
    }
  }
  if (sent.org === null) return problems;
  const own = world.pools[sent.org];
  const other = world.pools[sent.org === "a" ? "b" : "a"];
  if (text.includes(other.orgId)) problems.push({ rule: "tenancy leak", detail: `the other organization's id ${other.orgId} is in the answer` });
  for (const id of other.known) {
    if (text.includes(id) && !own.known.has(id) && !own.sent.some((request) => request.includes(id))) {
      problems.push({ rule: "tenancy leak", detail: `the other organization's ${id} is in the answer, and this one never sent it` });
      break;
    }
  }
  return problems;
}

/** A post of valid values to an open hosted form that must be accepted (200), or `null` when nothing is expected. */
export async function expectedSubmission(
  sent: Sent,
  world: World,
  store: { getUnscoped?(id: string): Promise<{ status: string } | null> },
): Promise<number | null> {
  const body = sent.step.body;
  if (sent.operation.name !== "POST /f/{id}" || sent.step.twist !== null || !body || !("form" in body)) return null;
  if (!(body.form instanceof FormValues) || body.form.variant !== "valid") return null;
  const id = sent.path[0]?.value;
  const pool = world.pools[sent.step.actor];
  const formId = id ? pool.parents.get(id) : undefined;
  const fields = formId ? pool.fields.get(formId) : undefined;
  // A required hidden field takes its value from the prefill alone; without one no person can submit.
  if (!id || !fields || fields.some((field) => field.type === "hidden" && field.required)) return null;
  const record = await store.getUnscoped!(id); // every store the fuzz runs on reads by id alone
  return record && (record.status === "created" || record.status === "open") ? 200 : null;
}

/** The list a request reads, for matching a cursor to the list it came from: its path and status filter. */
export function listOf(url: string): string {
  const { pathname, searchParams } = new URL(url);
  return `${pathname}?${searchParams.getAll("status").join(",")}`;
}

/**
 * A read that must succeed (200): a GET of the route's own kind of record of the caller's, that
 * still exists, without a query; or a list, without a query or with only a cursor of that list.
 */
export function expectedRead(sent: Sent, world: World): number | null {
  if (sent.method !== "GET" || sent.operation.method !== "GET" || sent.step.twist !== null || sent.org === null || sent.operation.public) return null;
  if (sent.step.auth !== "bearer" && sent.step.auth !== "x-api-key") return null;
  const pool = world.pools[sent.org];
  const params = new URL(sent.url).searchParams;
  const names = [...params.keys()];
  if (sent.path.length === 0) {
    if (names.length === 0) return 200;
    const cursor = params.get("cursor");
    const onlyCursor = names.every((name) => name === "cursor" || name === "status") && params.getAll("cursor").length === 1;
    return onlyCursor && cursor !== null && pool.cursorOrigin.get(cursor) === listOf(sent.url) ? 200 : null;
  }
  if (names.length > 0) return null;
  for (let i = 0; i < sent.path.length; i++) {
    const value = sent.path[i]!.value;
    const kind = value === null ? undefined : (pool.kindOf.get(value) ?? (pool.formOfSlug.has(value) ? "form" : undefined));
    if (!value || !kind || pool.gone.has(value) || !kindsOf(sent.operation, sent.operation.params[i]!).includes(kind)) return null;
  }
  // An action is read through its own thread.
  if (sent.path.length === 2 && pool.parents.get(sent.path[1]!.value!) !== sent.path[0]!.value) return null;
  return 200;
}
