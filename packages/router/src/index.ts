export { addressBucket, constantTimeEqual } from "@agent-sessions/core";
export { type ApiKey, type Authenticate, apiKeyAuthenticator, type Principal, presentedKey } from "./auth.js";
export type { ConsoleOptions } from "./console/app.js";
export { renderHostedPage } from "./hosted/pages.js";
export type { ReviewApproval, ReviewedAction, ReviewField, ReviewFormNames, ReviewPageView } from "./hosted/review-view.js";
export type { HostedField, HostedRender, HostedView } from "./hosted/view.js";
export { hostMatcher, LOOPBACK_HOSTS, type PublicUrl } from "./hosts.js";
export { errorBody, errorResponse, HttpError, json } from "./http.js";
export {
  buildOpenApiDocument,
  type JsonSchema,
  type OpenApiDocument,
  type OpenApiInfo,
  type OpenApiLicense,
  type OpenApiOperation,
  type OpenApiParameter,
} from "./openapi.js";
export { type ClientAddress, DEFAULT_RATE_LIMITS, type RateLimitOptions, type RateLimitSetting, requestIp } from "./rate-limit.js";
export { hostedUrl, type RouteContext, type RouteDefinition, type RouteResponse, type RouterSettings } from "./route.js";
export { type AgentSessionsRouter, apiRoutes, createRouter, type RouterOptions } from "./router.js";
export * as wire from "./wire.js";
