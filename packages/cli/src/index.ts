export { type CliIo, main } from "./cli.js";
export { createGuardedFetch, createWebhookSender, type GuardedFetchOptions, type LookupAll } from "./guarded-fetch.js";
export {
  API_KEYS_ENV,
  parseApiKey,
  parseApiKeyList,
  parseServeArgs,
  type ServeCommandLine,
  type ServeOptions,
  UsageError,
} from "./options.js";
export { createDevKey, DEV_ORG_ID, type RunningServer, type StartOptions, startServer } from "./serve.js";
export { DEFAULT_STORE, describeStore, openStore, parseStoreSpec, STORE_ENV, STORE_FORMS, type StoreSpec } from "./stores.js";
