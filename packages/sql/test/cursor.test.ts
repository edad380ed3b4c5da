// A cursor is opaque to callers, so anyone can forge one: the SQL store's must name a record id
// or be refused, never reach the query with whatever it decodes to (U+0000 makes PostgreSQL fail).
import { createEngine } from "@agent-sessions/core";
import { fixtures } from "@agent-sessions/core/testing";
import { describe, expect, it } from "vitest";
import { openTestDatabase } from "./servers.js";

const { orgId, seed } = fixtures;

/** A cursor in the store's own format (`c1.` and base64url) around any text. */
const forged = (text: string) => `c1.${Buffer.from(text, "utf8").toString("base64url")}`;

for (const dialect of ["postgres", "sqlite"] as const) {
  const database = await openTestDatabase(dialect);
  if (database) {
    describe(`SQL cursors on ${dialect}`, () => {
      it("pages by the cursor it hands out, and refuses a forged one as invalid input", async () => {
        const store = await database.store();
        const org = orgId();
        for (let i = 0; i < 3; i++) await seed(store, { orgId: org });
        const first = await store.list(org, { kind: "workflow", limit: 2 });
        expect(first.nextCursor).toMatch(/^c1\.[\w-]+$/);
        const second = await store.list(org, { kind: "workflow", limit: 2, cursor: first.nextCursor! });
        expect(second.records).toHaveLength(1);
        for (const cursor of [forged("\u0000"), forged("sess_x"), forged("'; DROP TABLE x; --"), "c1.", "c1.***", "AA"]) {
          await expect(store.list(org, { kind: "workflow", limit: 2, cursor }), cursor).rejects.toMatchObject({
            code: "invalid_input",
            message: "cursor: must be the nextCursor of a previous page",
          });
        }
      });

      it("pages through the engine by the cursor the store hands out", async () => {
        const engine = createEngine({ store: await database.store() });
        const org = orgId();
        const made = [];
        for (let i = 0; i < 5; i++) made.push((await engine.workflows.create(org, { name: `w${i}` })).id);
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await engine.workflows.list(org, { limit: 2, ...(cursor ? { cursor } : {}) });
          seen.push(...page.data.map((workflow) => workflow.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(seen).toEqual([...made].sort().reverse()); // newest id first; ids of one millisecond sort at random
      });
    });
  }
}
