// Statements are built with the query builder once per store and shape, then run with each
// call's values: a run must read its own values, a new shape must get a statement of its own,
// and a build that computes with a value (which would fix it in the statement) must fail loudly.
import { type AnyKysely, migrate } from "@agent-sessions/sql";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import type { Database as Tables } from "../src/database.js";
import { Statements, statement } from "../src/statement.js";
import { Tables as StoreTables } from "../src/tables.js";

const raw: AnyKysely = new Kysely({ dialect: new SqliteDialect({ database: new Database(":memory:") }) });
afterAll(() => raw.destroy());
await migrate(raw, "sqlite", { tablePrefix: "st_" });
const db: Kysely<Tables> = raw.withPlugin(new StoreTables("sqlite", { tablePrefix: "st_" }).plugin);
await db
  .insertInto("aliases")
  .values(["a", "b", "c"].map((alias) => ({ org_id: "org_1", alias, record_id: `rec_${alias}` })))
  .execute();

/** A statement that counts its builds. */
function counted<V extends object, R>(build: Parameters<typeof statement<V, R>>[0]) {
  const counter = { builds: 0 };
  const counting = statement<V, R>((...args) => {
    counter.builds++;
    return build(...args);
  });
  return { counter, statement: counting };
}

describe("statements compiled once per shape", () => {
  it("builds a statement once and runs it with each call's values, on the prefixed table", async () => {
    const statements = new Statements(db, "sqlite");
    const { counter, statement: resolve } = counted((db, { orgId, alias }: { orgId: string; alias: string }) =>
      db.selectFrom("aliases").select("record_id").where("org_id", "=", orgId).where("alias", "=", alias),
    );
    for (const alias of ["a", "b", "c", "d"]) {
      const { rows } = await statements.run(db, resolve, { orgId: "org_1", alias });
      expect(rows).toEqual(alias === "d" ? [] : [{ record_id: `rec_${alias}` }]);
    }
    expect(counter.builds).toBe(1);
  });

  it("builds another statement for values with another key undefined or an array of another length", async () => {
    const statements = new Statements(db, "sqlite");
    const { counter, statement: aliases } = counted((db, { aliases, record }: { aliases: readonly string[]; record?: string }) =>
      db
        .selectFrom("aliases")
        .select("alias")
        .where("alias", "in", aliases)
        .$if(record !== undefined, (qb) => qb.where("record_id", "=", record!))
        .orderBy("alias"),
    );
    const run = async (values: { aliases: string[]; record?: string }) => (await statements.run(db, aliases, values)).rows.map((row) => row.alias);
    expect(await run({ aliases: ["a", "b"] })).toEqual(["a", "b"]);
    expect(await run({ aliases: ["b", "c"] })).toEqual(["b", "c"]);
    expect(counter.builds).toBe(1);
    expect(await run({ aliases: ["a", "b", "c"] })).toEqual(["a", "b", "c"]);
    expect(await run({ aliases: ["a", "b"], record: "rec_b" })).toEqual(["b"]);
    expect(await run({ aliases: ["a", "b"], record: undefined })).toEqual(["a", "b"]);
    expect(await run({ aliases: ["a", "c"], record: "rec_c" })).toEqual(["c"]);
    expect(counter.builds).toBe(4);
  });

  it("builds another statement for a row with another of its keys undefined, which kysely leaves out of an INSERT", async () => {
    const statements = new Statements(db, "sqlite");
    const insert = statement((db, { row }: { row: { id: string; last_error?: string } }) =>
      db.insertInto("outbox").values({ ...row, org_id: "org_1", topic: "t", payload: "null", available_at: 0 }),
    );
    await statements.run(db, insert, { row: { id: "m1", last_error: undefined } });
    await statements.run(db, insert, { row: { id: "m2", last_error: "refused" } });
    const rows = await db.selectFrom("outbox").select(["id", "last_error"]).where("id", "in", ["m1", "m2"]).orderBy("id").execute();
    expect(rows).toEqual([
      { id: "m1", last_error: null },
      { id: "m2", last_error: "refused" },
    ]);
  });

  it("refuses a build that computes with a value instead of passing it on", async () => {
    const statements = new Statements(db, "sqlite");
    const stringified = statement((db, { alias }: { alias: string }) =>
      db.selectFrom("aliases").select("record_id").where("alias", "=", JSON.stringify(alias)),
    );
    const concatenated = statement((db, { alias }: { alias: string }) =>
      db.selectFrom("aliases").select("record_id").where("alias", "=", `${alias}`),
    );
    for (const wrong of [stringified, concatenated]) {
      await expect(statements.run(db, wrong, { alias: "a" })).rejects.toThrow("pass them to the builder as they are");
    }
  });
});
