export { type AgentSessionsClient, createClient } from "./client.js";
export { AgentSessionsClientError, ApiError, NetworkError, TimeoutError } from "./errors.js";
export type { EventsOptions } from "./resources/events.js";
export type { ListFormSessionsQuery } from "./resources/forms.js";
export type { WaitForOptions } from "./resources/inboxes.js";
export type { ListSessionsQuery } from "./resources/sessions.js";
export type { ClientOptions, FetchLike, RequestOptions } from "./transport.js";
export type * from "./types.js";
