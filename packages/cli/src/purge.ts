import { createEngine, type PurgeCounts, type PurgeReport } from "@agent-sessions/core";
import type { CliIo } from "./cli.js";
import { parseFlags, UsageError } from "./errors.js";
import { parseDurationFlag } from "./options.js";
import { DEFAULT_STORE, describeStore, openStore, STORE_ENV, STORE_FORMS, storeSpecOf } from "./stores.js";

export const PURGE_HELP = `Usage: agent-sessions purge --older-than <duration> [--dry-run] [--store <store>] [--json]

Removes, now, every record that has been terminal (a workflow completed or failed, a thread
closed, a form session submitted or expired, a webhook endpoint deleted) for longer than the
duration, with its timeline, aliases, idempotency entries, delivery log and waiting outbox
messages, in bounded batches; then says how many of each it removed. serve --retain does the same
in the background.

Options:
  --older-than <duration>  How long a record has been terminal: 30d, 12h, 90m, 45s
  --dry-run                Count what would be removed, and remove nothing
  --store <store>          The store (default: $${STORE_ENV}, else ${DEFAULT_STORE}):
${STORE_FORMS.map((form) => `                             ${form}`).join("\n")}
  --json                   Print the counts as JSON
  -h, --help               Show this help
`;

const FLAGS = {
  "older-than": { type: "string" },
  "dry-run": { type: "boolean" },
  store: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The counts in the order they are printed, with their names. */
const COLUMNS: readonly (readonly [keyof PurgeReport["removed"], string])[] = [
  ["records", "records"],
  ["events", "timeline events"],
  ["deliveries", "delivery log entries"],
  ["aliases", "aliases"],
  ["idempotency", "idempotency entries"],
  ["outbox", "outbox messages"],
];

/** Runs `agent-sessions purge`; resolves with the exit code. */
export async function runPurge(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, FLAGS);
  if (values.help) {
    io.out(PURGE_HELP);
    return 0;
  }
  if (values["older-than"] === undefined) throw new UsageError("--older-than is required, e.g. --older-than 30d");
  const olderThan = parseDurationFlag(values["older-than"], "--older-than");
  const spec = storeSpecOf(values.store, io.env);
  // The schema is the operator's to change (migrate, or serve): an old one is refused, saying so.
  const opened = await openStore(spec, { migrate: false });
  try {
    const engine = createEngine({ store: opened.store });
    const report = await engine.purge({ olderThan, dryRun: values["dry-run"] === true });
    io.out(values.json ? `${JSON.stringify(report, null, 2)}\n` : describeReport(report, describeStore(spec), values["older-than"]));
    return 0;
  } finally {
    await opened.close();
  }
}

/** The report as lines: what was (or would be) removed, in total and per kind. */
function describeReport(report: PurgeReport, store: string, olderThan: string): string {
  const verb = report.dryRun ? "would remove" : "removed";
  const lines = [
    `agent-sessions purge: ${store}: records terminal for longer than ${olderThan.trim()} (last written before ${new Date(report.before).toISOString()})${report.dryRun ? " (dry run: nothing removed)" : ""}`,
  ];
  const width = Math.max(...COLUMNS.map(([, name]) => name.length));
  for (const [field, name] of COLUMNS) lines.push(`  ${verb} ${name.padEnd(width)}  ${report.removed[field]}`);
  for (const [kind, counts] of Object.entries(report.byKind) as [string, PurgeCounts][]) {
    lines.push(
      `  ${kind}: ${counts.records} records, ${counts.events} events, ${counts.deliveries > 0 ? `${counts.deliveries} delivery log entries, ` : ""}${counts.aliases} aliases, ${counts.idempotency} idempotency entries, ${counts.outbox} outbox messages`,
    );
  }
  return `${lines.join("\n")}\n`;
}
