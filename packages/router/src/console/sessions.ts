import { constantTimeEqual } from "@agent-sessions/core";
import type { Principal } from "../auth.js";

/** The cookie that carries a console session's id, and nothing else. */
export const SESSION_COOKIE = "as_console";
/** The cookie that carries the sign-in form's token before there is a session (login CSRF). */
export const LOGIN_COOKIE = "as_console_login";
/** The name of the hidden field every console form posts its CSRF token in. */
export const CSRF_FIELD = "csrf";

/** One signed-in browser: the organization and key it signed in with, never the key itself. */
export interface ConsoleSession {
  readonly id: string;
  readonly orgId: string;
  /** The key's name, as the router records it in decisions (`<org>/<label>`). */
  readonly label: string | undefined;
  /** The per-key rate-limit bucket of the key. */
  readonly rateLimitKey: string | undefined;
  /** The token every POST of this session must carry. */
  readonly csrf: string;
  lastSeen: number;
}

/** How the console keeps its sessions. */
export interface ConsoleSessionOptions {
  /** Milliseconds of inactivity after which a session ends. Default: 30 minutes. */
  readonly idleMs?: number;
  /** Most sessions kept at once; past it the least recently used one ends. Default: 10 000. */
  readonly maxSessions?: number;
}

/** A random token of `bytes` random bytes as base64url, from Web Crypto. */
export function randomToken(bytes = 32): string {
  const random = globalThis.crypto.getRandomValues(new Uint8Array(bytes));
  let binary = "";
  for (const byte of random) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The console's sessions, in this process's memory: a random id bound to an organization and a
 * key's identity, ended after `idleMs` without a request. A Map keeps insertion order, and each
 * use moves a session to the end, so the first entry is always the least recently used.
 */
export class ConsoleSessions {
  readonly idleMs: number;
  private readonly maxSessions: number;
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(options: ConsoleSessionOptions = {}) {
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.maxSessions = options.maxSessions ?? 10_000;
  }

  /** Starts a session for `principal` at `now`. */
  create(principal: Principal, now: number): ConsoleSession {
    const session: ConsoleSession = {
      id: randomToken(),
      orgId: principal.orgId,
      label: principal.label,
      rateLimitKey: principal.rateLimitKey,
      csrf: randomToken(),
      lastSeen: now,
    };
    this.sessions.set(session.id, session);
    while (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    return session;
  }

  /** The live session of `id` as of `now`, its inactivity clock restarted; `null` when unknown or idle too long (then it ends). */
  touch(id: string | null, now: number): ConsoleSession | null {
    if (id === null) return null;
    const session = this.sessions.get(id);
    if (!session) return null;
    this.sessions.delete(id);
    if (now - session.lastSeen > this.idleMs) return null;
    session.lastSeen = now;
    this.sessions.set(id, session);
    return session;
  }

  /** Ends a session (sign-out). */
  end(id: string): void {
    this.sessions.delete(id);
  }

  /** How many sessions are kept. */
  get size(): number {
    return this.sessions.size;
  }
}

/** The value of the cookie `name` in a request, or `null`. */
export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim() || null;
  }
  return null;
}

/** Whether a request reached us over https (its URL, as the server adapter or a trusted proxy set it). */
export function isHttps(request: Request): boolean {
  return request.url.startsWith("https:");
}

/** A `Set-Cookie` value: HttpOnly, SameSite=Strict, scoped to `path`, Secure over https; `maxAge` 0 clears it. */
export function cookie(request: Request, name: string, value: string, path: string, maxAgeSeconds?: number): string {
  const parts = [`${name}=${value}`, `Path=${path}`, "HttpOnly", "SameSite=Strict"];
  if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
  if (isHttps(request)) parts.push("Secure");
  return parts.join("; ");
}

/** Whether a posted CSRF token is the session's, compared in constant time. */
export function csrfMatches(expected: string, posted: string | null): boolean {
  return posted !== null && constantTimeEqual(expected, posted);
}
