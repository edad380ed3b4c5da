// The root README's "Writing a store adapter" quotes this example: every code block there must
// still be found, as written, in the example's files, so the walkthrough cannot drift from code
// that passes the suite.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");

describe("README: Writing a store adapter", () => {
  const readme = read("../../../README.md");
  const section = readme.slice(
    readme.indexOf("## Writing a store adapter"),
    readme.indexOf("\n## ", readme.indexOf("## Writing a store adapter") + 1),
  );
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!.trimEnd());
  const sources = [read("../map-store.ts"), read("./conformance.test.ts")];

  it("quotes the example's code", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const block of blocks)
      expect(
        sources.some((source) => source.includes(block)),
        block,
      ).toBe(true);
  });
});
