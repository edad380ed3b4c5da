import type { CreateFormInput, Form } from "@agent-sessions/client";
import { UsageError } from "../errors.js";
import type { CommandContext, CommandGroup } from "./command.js";
import { printJson, printRecord, printTable, showPage } from "./output.js";
import { jsonFile, wholeNumber } from "./values.js";

/** The `--limit` and `--offset` flags of every list command. */
export const LIST_FLAGS = { limit: { type: "string" }, offset: { type: "string" } } as const;
export const LIST_OPTIONS = `  --limit <n>             Rows per page, 1 to 100 (default: 20)
  --offset <n>            Rows to skip (default: 0)`;

/** The paging query of `--limit` and `--offset`. */
export function listQuery({ flags }: CommandContext): { limit?: number; offset?: number } {
  return {
    ...(typeof flags.limit === "string" ? { limit: wholeNumber("--limit", flags.limit, 1) } : {}),
    ...(typeof flags.offset === "string" ? { offset: wholeNumber("--offset", flags.offset, 0) } : {}),
  };
}

function printForm(context: CommandContext, form: Form): void {
  if (context.json) {
    printJson(context.io, form);
    return;
  }
  printRecord(context.io, { id: form.id, slug: form.slug, name: form.name, allowPartial: form.allowPartial, created_at: form.created_at });
  printTable(
    context.io,
    ["FIELD", "TYPE", "REQUIRED", "LABEL"],
    form.fields.map((field) => [field.name, field.type, field.required === true ? "yes" : "no", field.label]),
  );
}

/** `agent-sessions forms …`: the form definitions of seed 000. */
export const formsGroup: CommandGroup = {
  name: "forms",
  summary: "Form definitions: what a person is asked to fill in (POST/GET /v1/forms)",
  commands: {
    create: {
      usage: "--file <form.json>",
      summary: "Create a form from a JSON definition",
      details: `The file holds the body of POST /v1/forms, e.g.
  {"name": "Support intake", "slug": "support-intake", "allowPartial": true,
   "fields": [{"name": "email", "type": "email", "required": true}]}`,
      options: "  --file <path>           The form definition as JSON ('-' reads standard input)",
      flags: { file: { type: "string" } },
      positionals: [],
      async run(context) {
        const file = context.flags.file;
        if (typeof file !== "string") throw new UsageError("--file is required: the form definition as JSON");
        const form = await context.client().forms.create(jsonFile("--file", file) as CreateFormInput);
        printForm(context, form);
        return 0;
      },
    },
    list: {
      usage: "[--limit <n>] [--offset <n>]",
      summary: "List forms, newest first",
      options: LIST_OPTIONS,
      flags: LIST_FLAGS,
      positionals: [],
      async run(context) {
        const page = await context.client().forms.list(listQuery(context));
        return showPage(context, page, ["ID", "SLUG", "NAME", "FIELDS", "CREATED"], (form) => [
          form.id,
          form.slug,
          form.name,
          form.fields.map((field) => field.name).join(","),
          form.created_at,
        ]);
      },
    },
    get: {
      usage: "<form>",
      summary: "Show a form (by id or slug) and its fields",
      positionals: ["form"],
      async run(context) {
        printForm(context, await context.client().forms.get(context.positionals[0]!));
        return 0;
      },
    },
  },
};
