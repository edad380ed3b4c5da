import type { CommandGroup } from "./command.js";
import { LIST_FLAGS, LIST_OPTIONS, listQuery } from "./forms.js";
import { printJson, printRecord, showPage } from "./output.js";
import { list } from "./values.js";

/** `agent-sessions webhooks …`: where an organization's events are delivered, and how that went. */
export const webhooksGroup: CommandGroup = {
  name: "webhooks",
  summary: "Webhook endpoints: signed deliveries of your organization's events, and their delivery log",
  commands: {
    add: {
      usage: "<url> [--event <type>]... [--description <text>]",
      summary: "Add an endpoint; prints its signing secret, shown only this once",
      options: `  --event <type>          Deliver only this event type, or a prefix such as 'session.*'; repeat for more
                          (default: every event)
  --description <text>    What the endpoint is for`,
      flags: { event: { type: "string", multiple: true }, description: { type: "string" } },
      positionals: ["url"],
      async run(context) {
        const events = list(context.flags.event);
        const description = context.flags.description;
        const endpoint = await context.client().webhooks.create({
          url: context.positionals[0]!,
          ...(events.length > 0 ? { events } : {}),
          ...(typeof description === "string" ? { description } : {}),
        });
        if (context.json) {
          printJson(context.io, endpoint);
          return 0;
        }
        printRecord(context.io, endpoint);
        context.io.out("Keep the secret: it verifies the webhook-signature header and is not shown again.\n");
        return 0;
      },
    },
    list: {
      usage: "[--limit <n>] [--offset <n>]",
      summary: "List endpoints (without their secrets)",
      options: LIST_OPTIONS,
      flags: LIST_FLAGS,
      positionals: [],
      async run(context) {
        const page = await context.client().webhooks.list(listQuery(context));
        return showPage(context, page, ["ID", "URL", "EVENTS", "DESCRIPTION", "CREATED"], (endpoint) => [
          endpoint.id,
          endpoint.url,
          endpoint.events.length === 0 ? "*" : endpoint.events,
          endpoint.description,
          endpoint.created_at,
        ]);
      },
    },
    deliveries: {
      usage: "<webhook_id> [--limit <n>] [--offset <n>]",
      summary: "Show an endpoint's delivery log, newest attempt first",
      options: LIST_OPTIONS,
      flags: LIST_FLAGS,
      positionals: ["webhook_id"],
      async run(context) {
        const page = await context.client().webhooks.deliveries(context.positionals[0]!, listQuery(context));
        return showPage(context, page, ["ATTEMPTED", "EVENT", "ATTEMPT", "STATUS", "CODE", "MS", "ERROR"], (a) => [
          a.attempted_at,
          a.event_type,
          a.attempt,
          a.status,
          a.status_code,
          a.duration_ms,
          a.error,
        ]);
      },
    },
    remove: {
      usage: "<webhook_id>",
      summary: "Delete an endpoint: nothing more is delivered to it",
      positionals: ["webhook_id"],
      async run(context) {
        const deleted = await context.client().webhooks.delete(context.positionals[0]!);
        if (context.json) printJson(context.io, deleted);
        else context.io.out(`Deleted ${deleted.id}\n`);
        return 0;
      },
    },
  },
};
