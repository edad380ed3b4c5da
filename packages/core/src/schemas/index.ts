export * from "./common.js";
export * from "./event.js";
