import { WORKFLOW_STATUSES, Workflow } from "../schemas/workflow.js";
import { WORKFLOW_LIMITS } from "../machines/workflow.js";
import { defineKind } from "./kind.js";

/** Workflow sessions (seed 001): inboxes, messages, waits and steps, until completed or failed. */
export const workflowKind = defineKind({
  name: "workflow",
  prefix: "sess",
  noun: "Session",
  statuses: WORKFLOW_STATUSES,
  terminal: ["completed", "failed"],
  state: Workflow,
  limits: WORKFLOW_LIMITS,
  parts: (state: Workflow) => state.inboxes.length + state.waits.length + state.messages.length + state.steps.length,
});
