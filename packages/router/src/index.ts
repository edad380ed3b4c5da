export { type ApiKey, type Authenticate, apiKeyAuthenticator, constantTimeEqual, presentedKey, type Principal } from "./auth.js";
export { errorResponse, HttpError, json } from "./http.js";
export { buildOpenApiDocument, type JsonSchema, type OpenApiDocument, type OpenApiInfo, type OpenApiOperation, type OpenApiParameter } from "./openapi.js";
export { hostedUrl, type RouteContext, type RouteDefinition, type RouteResponse, type RouterSettings } from "./route.js";
export { type AgentSessionsRouter, apiRoutes, createRouter, type RouterOptions } from "./router.js";
export * as wire from "./wire.js";
