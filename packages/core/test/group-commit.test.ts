import { describe, expect, it } from "vitest";
import { GroupCommit } from "../src/index.js";

describe("GroupCommit", () => {
  it("sends the first item alone and what came meanwhile together, split by key and size, each answered in order", async () => {
    const writes: string[][] = [];
    const commit = new GroupCommit<string, string>(
      async (items) => {
        writes.push([...items]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return items.map((item) => item.toUpperCase());
      },
      { key: (item) => item[0]!, size: 2 },
    );
    const answers = await Promise.all(["a1", "a2", "b1", "a3", "a4", "a5"].map((item) => commit.add(item)));
    expect(answers).toEqual(["A1", "A2", "B1", "A3", "A4", "A5"]);
    expect(writes).toEqual([["a1"], ["a2", "a3"], ["a4", "a5"], ["b1"]]);
  });

  it("fails only the items of a write that failed, and keeps writing after it", async () => {
    const commit = new GroupCommit<string, number>(
      async (items) => {
        if (items.includes("bad")) throw new Error("refused");
        return items.map((item) => item.length);
      },
      { key: (item) => (item === "bad" ? "x" : "y") },
    );
    const first = commit.add("first");
    const [bad, good] = await Promise.allSettled([commit.add("bad"), commit.add("good")]);
    expect(await first).toBe(5);
    expect(bad).toMatchObject({ status: "rejected", reason: new Error("refused") });
    expect(good).toEqual({ status: "fulfilled", value: 4 });
    expect(await commit.add("later")).toBe(5);
  });
});
