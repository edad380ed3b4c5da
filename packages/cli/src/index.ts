export { type CliIo, main } from "./cli.js";
export {
  API_KEYS_ENV,
  parseApiKey,
  parseApiKeyList,
  parseServeArgs,
  type ServeCommandLine,
  type ServeOptions,
  STORES,
  type StoreKind,
  UsageError,
} from "./options.js";
export { createDevKey, DEV_ORG_ID, type RunningServer, type StartOptions, startServer } from "./serve.js";
