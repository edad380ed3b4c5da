export * from "./agent.js";
export * from "./common.js";
export * from "./event.js";
export * from "./webhook.js";
