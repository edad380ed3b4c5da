/**
 * Freezes a value and everything in it, stopping at parts already frozen (shared, so done).
 * Throws on what JSON cannot hold (a BigInt, a function, a symbol), as the stores that serialize
 * do. Children are frozen before their parent, so a value that throws half-way is left with no
 * frozen part that was not checked whole, and is checked again when it comes back.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol") {
      throw new TypeError(`memory store: a ${typeof value} is not JSON and cannot be stored`);
    }
    return value;
  }
  if (Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
  } else {
    // `for…in` over a plain record (states and events are JSON data): no array of keys per object.
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
  Object.freeze(value);
  return value;
}
