import { RE2JS, RE2JSException } from "re2js";

/**
 * A wait's `pattern` is run by re2js, a port of RE2: matching takes time linear in the text, so
 * no pattern (`(a+)+$` included) can hang the worker on a 64 KiB message. RE2 refuses what it
 * cannot match in linear time (lookarounds, backreferences); such a pattern is a 400.
 */

/** How many compiled patterns are kept, the most recently used: the machine matches on every message. */
const CACHE_SIZE = 256;
/** Compiled patterns, or the reason a pattern is refused, by pattern text; the most recently used last. */
const cache = new Map<string, RE2JS | string>();

function compile(pattern: string): RE2JS | string {
  let found = cache.get(pattern);
  if (found !== undefined) {
    cache.delete(pattern);
  } else {
    found = compileNew(pattern);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(pattern, found);
  return found;
}

function compileNew(pattern: string): RE2JS | string {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    const reason = error.message.replace(/^error parsing regexp: /, "");
    return `is not a regular expression the linear-time engine (RE2 syntax) accepts: ${reason}`;
  }
  const groups = compiled.groupCount();
  if (groups !== 1) return `must have exactly one capture group, around the code (it has ${groups}); use (?:…) for other groups`;
  return compiled;
}

/** Why `pattern` cannot be a wait's pattern (RE2 syntax, exactly one capture group), or `null` when it can. */
export function patternProblem(pattern: string): string | null {
  const compiled = compile(pattern);
  return typeof compiled === "string" ? compiled : null;
}

/**
 * The code `pattern` finds in a message: what its capture group took in its first match in the
 * subject, else in the body (the order `extractOtp` reads them in). A first match in which the
 * group took no part counts as none. `null` when it finds none, or for a pattern `patternProblem`
 * refuses.
 */
export function findCode(pattern: string, subject: string, body: string): string | null {
  const compiled = compile(pattern);
  if (typeof compiled === "string") return null;
  for (const text of [subject, body]) {
    const matcher = compiled.matcher(text);
    if (!matcher.find()) continue;
    const code = matcher.group(1);
    if (code !== null) return code;
  }
  return null;
}
