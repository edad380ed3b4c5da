import { Agent } from "../schemas/agent.js";
import { defineKind } from "./kind.js";

/** Agents (seed 003): definitions that never change after creation, so their one status is `active`. */
export const agentKind = defineKind({
  name: "agent",
  prefix: "agent",
  noun: "Agent",
  statuses: ["active"],
  terminal: [],
  state: Agent,
  limits: {},
});
