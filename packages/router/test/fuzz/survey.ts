// FUZZ_SURVEY=1: every failure is noted instead of thrown, grouped by its rule, operation and
// cause, with the first request of each group; for listing what a store still gets wrong.
import { describeSent, type Sent } from "./requests.js";
import type { Problem } from "./responses.js";
import type { World } from "./world.js";

/** The first line of the first error the server reported, ids and numbers blurred. */
function cause(world: World): string {
  const first = world.reported[0]?.error;
  const text = first instanceof Error ? `${first.name}: ${first.message}` : first === undefined ? "" : String(first);
  return blur(text.split("\n")[0]!.slice(0, 120));
}

function blur(text: string): string {
  return text
    .replace(/[a-z]+_[0-9a-f]{32}/g, "<id>")
    .replace(/org_[0-9a-f]+/g, "<org>")
    .replace(/\d+/g, "N");
}

export class Survey {
  readonly #groups = new Map<string, { count: number; examples: string[] }>();

  /** Notes a failure under its group. */
  note(store: string, sent: Sent | null, world: World, problems: readonly Problem[], report: string): void {
    for (const problem of problems) {
      const key = `${store} | ${problem.rule} | ${sent?.operation.name ?? "(clock)"} | ${cause(world)}`;
      const group = this.#groups.get(key);
      if (!group) this.#groups.set(key, { count: 1, examples: [report] });
      else if (++group.count <= 3) group.examples.push(`  ${problem.detail}\n  ${sent ? describeSent(sent, 200) : ""}`);
    }
  }

  /** Every group with its count and first example. */
  report(store: string): string {
    const lines = [`=== router fuzz survey on ${store}: ${this.#groups.size} groups ===`];
    for (const [key, { count, examples }] of [...this.#groups].sort()) lines.push(`\n## ${key} (×${count})\n${examples.join("\n")}`);
    return lines.join("\n");
  }
}
