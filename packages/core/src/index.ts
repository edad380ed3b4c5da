export { mapSubschemas } from "./args-schema.js";
export { constantTimeEqual } from "./bytes.js";
export { parseDuration } from "./durations.js";
export {
  type AesGcmCodecOptions,
  type Codec,
  createAesGcmCodec,
  type EncryptedValue,
  type EncryptionKey,
  isEncryptedValue,
} from "./encryption.js";
export {
  type ActionContext,
  type ActionExecutor,
  DEFAULT_ACTION_ATTEMPTS,
  DEFAULT_ACTION_RETRY_DELAYS,
} from "./engine/actions.js";
export type { AgentOperations, AgentSessionOperations } from "./engine/agents.js";
export type { AnyRecord } from "./engine/any-record.js";
export { DEFAULT_WEBHOOK_RETRY_SCHEDULE, type FetchFunction, senderOverFetch, type WebhookSender } from "./engine/deliveries.js";
export { encryptStore } from "./engine/encrypted-store.js";
export { createEngine, type Engine, type EngineOptions, type TickResult, type WebhookOptions } from "./engine/engine.js";
export type { FormOperations, FormSessionOperations, HostedOutcome, HostedSubmission } from "./engine/forms.js";
export {
  createMemoryNotifier,
  decodeNotification,
  encodeNotification,
  type NotificationListener,
  type Notifier,
} from "./engine/notifier.js";
export type { EngineEvents, ListOptions, Page } from "./engine/records.js";
export { PURGEABLE_KINDS, type PurgeReport, type PurgeRequest, type RetentionOptions } from "./engine/retention.js";
export { INSTRUMENTATION_SCOPE, TELEMETRY_ATTRIBUTES, type TelemetryOptions, type TraceCarrier } from "./engine/telemetry.js";
export type { ActionOutcome, DecisionOptions, ReviewDecision, ReviewView, ThreadAction, ThreadOperations } from "./engine/threads.js";
export type { EventWatch, WatchOptions } from "./engine/watch.js";
export type { WebhookOperations } from "./engine/webhooks.js";
export { DELIVERY_TOPIC, type DeliveryPage, type DeliveryPayload, deliveryId } from "./engine/webhooks.js";
export type { TickOptions, WorkerOptions } from "./engine/worker.js";
export type { WorkflowOperations } from "./engine/workflows.js";
export * from "./errors.js";
export { checkFormFields, coerceFieldValue, ownValue } from "./form-fields.js";
export { GroupCommit, type GroupCommitOptions } from "./group-commit.js";
export { MemoryIdempotencyStore } from "./idempotency.js";
export { createIdGenerator, eventId, idTime, isPrefixedId, isRecordId, isShowable, PART_PREFIXES } from "./ids.js";
export { JSON_LIMITS, readJson } from "./json-boundary.js";
export * from "./kinds/index.js";
export { accept, defineMachine, type Effects, iso, isoOrNull, type Machine, refuse, type Transition } from "./machine.js";
export * from "./machines/agent-session.js";
export * from "./machines/form-session.js";
export * from "./machines/pending-action.js";
export * from "./machines/thread.js";
export * from "./machines/webhook.js";
export * from "./machines/workflow.js";
export { extractOtp } from "./otp.js";
export {
  addressBucket,
  bucketTimes,
  checkRateLimitRule,
  createMemoryRateLimiter,
  type MemoryRateLimiter,
  type MemoryRateLimiterOptions,
  type RateLimiter,
  type RateLimitRule,
} from "./rate-limit.js";
export * from "./schemas/index.js";
export type * from "./store.js";
export { assertPurgeOptions, STORE_CAPABILITIES, storeCapabilities, storeIdempotency } from "./store.js";
export { assertJsonSize, assertRecordLimit, jsonBytes, parseInput } from "./validate.js";
export { type AddressClass, classifyAddress } from "./webhooks/address-ranges.js";
export { checkWebhookUrl, isPrivateAddress, type ResolveHost } from "./webhooks/addresses.js";
export { createWebhookSecret, signWebhook, webhookRequest } from "./webhooks/signing.js";
