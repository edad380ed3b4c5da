import { isAgentSessionsError, isPrefixedId, isShowable, type ListOptions } from "@agent-sessions/core";
import { Type } from "@sinclair/typebox";
import { HttpError } from "../http.js";
import type { RouteResponse } from "../route.js";
import { ErrorBody } from "../wire.js";

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed JSON, an invalid field or an unknown field",
  401: "Invalid or missing API key",
  404: "Not found, or another organization's",
  409: "Illegal transition, version conflict, or an Idempotency-Key in use",
  410: "Expired",
  413: "Body too large",
  422: "Idempotency-Key reused with another request",
  500: "Internal server error",
};

/** The error responses of a route, documented with the one error body. */
export function errors(...statuses: number[]): Record<number, RouteResponse> {
  return Object.fromEntries(
    [...new Set([...statuses, 401, 500])].map((status) => [status, { description: ERROR_DESCRIPTIONS[status]!, schema: ErrorBody }]),
  );
}

/** Query parameters of the list endpoints. */
export const listQuery = {
  limit: { description: "Number of results per page (default: 20, at most 100)", schema: Type.Integer({ minimum: 1, maximum: 100 }) },
  offset: { description: "Number of results to skip (default: 0)", schema: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) },
  cursor: { description: "The nextCursor of the previous page, instead of offset", schema: Type.String() },
} as const;

/**
 * Reads the list parameters of a query string, refusing a malformed number, an unknown or a
 * repeated parameter by name. A `status` is passed on as text: the engine answers one its kind
 * does not have with a 400 naming the statuses it has.
 */
export function readListQuery<Status extends string = never>(url: URL, extra: readonly string[] = []): ListOptions<Status> {
  const query: Record<string, string | number> = {};
  for (const [name, value] of url.searchParams) {
    if (Object.hasOwn(query, name)) throw new HttpError(400, `${name}: must be given once`);
    if (name === "limit" || name === "offset") {
      // Digits only, and few enough that the number is exact: `9007199254740993` is not read as …992.
      const number = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isSafeInteger(number)) throw new HttpError(400, `${name}: must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
      query[name] = number;
    } else if (name === "cursor" || extra.includes(name)) {
      query[name] = value;
    } else {
      throw new HttpError(400, `${name} is not a known query parameter`);
    }
  }
  return query as ListOptions<Status>;
}

/** The pagination object of seed 001, with the cursor of the next page. */
export function pagination(page: { limit: number; offset: number; total: number; nextCursor: string | null }) {
  return { limit: page.limit, offset: page.offset, total: page.total, nextCursor: page.nextCursor };
}

/** A 404 naming `id` only when it is short and plain: "Session sess_… not found". */
export function notFound(noun: string, id: string): HttpError {
  return new HttpError(404, isShowable(id) ? `${noun} ${id} not found` : `${noun} not found`);
}

/** `id` when it has `prefix`, else a 404 that names it only when it is short and plain. */
export function idOf(id: string, prefix: string, noun: string): string {
  if (!isPrefixedId(id, prefix)) throw notFound(noun, id);
  return id;
}

/**
 * What `read` answers; its not found becomes the 404 every session route words alike, "Session …
 * not found", whatever kind the engine's message named after the id's prefix.
 */
export async function orSessionNotFound<T>(id: string, read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (isAgentSessionsError(error) && error.code === "not_found") throw notFound("Session", id);
    throw error;
  }
}
