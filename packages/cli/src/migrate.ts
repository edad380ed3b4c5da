import type { CliIo } from "./cli.js";
import { parseFlags } from "./errors.js";
import { DEFAULT_STORE, describeStore, STORE_ENV, STORE_FORMS, storeSpecOf } from "./stores.js";

export const MIGRATE_HELP = `Usage: agent-sessions migrate [--store <url>]

Creates the tables of an SQL store, or upgrades them to the schema this release needs. Each
migration is applied once and recorded; running it again changes nothing. A database migrated by
a newer release is refused: upgrade agent-sessions instead. (serve migrates at start as well.)

Options:
  --store <url>   The SQL store (default: $${STORE_ENV}, else ${DEFAULT_STORE}):
                    ${STORE_FORMS.filter((form) => /^(sqlite|postgres|mysql)/.test(form)).join("\n                    ")}
  -h, --help      Show this help
`;

/** Runs `agent-sessions migrate`; resolves with the exit code. */
export async function runMigrate(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, { store: { type: "string" }, help: { type: "boolean", short: "h" } });
  if (values.help) {
    io.out(MIGRATE_HELP);
    return 0;
  }
  const spec = storeSpecOf(values.store, io.env);
  if (spec.kind !== "sql") {
    io.out(`agent-sessions migrate: ${describeStore(spec)} keeps no schema; nothing to do\n`);
    return 0;
  }
  const { openSqlStore } = await import("@agent-sessions/sql");
  const store = await openSqlStore(spec.url);
  try {
    const result = await store.migrate();
    io.out(
      result.applied.length === 0
        ? `agent-sessions migrate: ${describeStore(spec)} is at schema version ${result.to}; nothing to do\n`
        : `agent-sessions migrate: ${describeStore(spec)} from schema version ${result.from} to ${result.to} (applied ${result.applied.join(", ")})\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}
