/** What `runSmoke` did. */
export interface SmokeResult {
  /** HTTP requests made, every one answered as documented. */
  readonly requests: number;
  /** The status of the hosted form page: 200, or 404 where the page is not mounted. */
  readonly hostedPage: number;
}

/**
 * Drives every session kind end to end over HTTP against `baseUrl` (where the router is mounted)
 * with an API key; rejects on the first response that differs from the documented one.
 */
export function runSmoke(options: { baseUrl: string; key: string; log?: (line: string) => void }): Promise<SmokeResult>;
