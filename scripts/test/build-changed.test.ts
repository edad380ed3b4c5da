import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// @ts-expect-error a plain ES module without types
import { plan, workspacePackages, writeStamp } from "../build-changed.mjs";

/** A workspace of three packages: core, memory (on core) and cli (on memory), each with one source file. */
function workspace(root: string) {
  const add = (name: string, deps: string[] = []) => {
    const dir = join(root, "packages", name);
    mkdirSync(join(dir, "src"), { recursive: true });
    const dependencies = Object.fromEntries(deps.map((dep) => [`@x/${dep}`, "workspace:*"]));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `@x/${name}`, dependencies: { ...dependencies, kysely: "0.28.0" } }));
    writeFileSync(join(dir, "src", "index.ts"), `export const name = "${name}";\n`);
  };
  add("cli", ["memory"]);
  add("core");
  add("memory", ["core"]);
}

const names = (root: string) => plan(workspacePackages(root)).map((pkg: { name: string }) => pkg.name);

describe("pnpm start's build of what changed", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "build-changed-"));
    workspace(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("builds every package without a stamp, each after the packages it depends on", () => {
    expect(names(root)).toEqual(["@x/core", "@x/memory", "@x/cli"]);
  });

  it("builds nothing when every package is built from its current sources", () => {
    for (const pkg of workspacePackages(root)) writeStamp(pkg);
    expect(names(root)).toEqual([]);
  });

  it("builds a changed package and the packages that depend on it, and no other", () => {
    for (const pkg of workspacePackages(root)) writeStamp(pkg);
    writeFileSync(join(root, "packages", "memory", "src", "index.ts"), `export const name = "memory, changed";\n`);
    expect(names(root)).toEqual(["@x/memory", "@x/cli"]);
    writeFileSync(join(root, "packages", "core", "src", "extra.ts"), "export {};\n");
    expect(names(root)).toEqual(["@x/core", "@x/memory", "@x/cli"]);
  });

  it("counts a changed build configuration as a change", () => {
    for (const pkg of workspacePackages(root)) writeStamp(pkg);
    writeFileSync(join(root, "packages", "cli", "tsup.config.ts"), "export default {};\n");
    expect(names(root)).toEqual(["@x/cli"]);
  });
});
