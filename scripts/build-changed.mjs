#!/usr/bin/env node
// Builds only the packages whose sources changed since their last build, and those that depend on
// them, in dependency order: `pnpm start` serves at once when everything is built already.
//
// A package's inputs are its src/ tree, package.json, tsconfig.json and tsup.config.ts; their
// SHA-256 is written to dist/.build-stamp after a build. `--stamp` only writes the stamps (after a
// full `pnpm build`); `--dry-run` says what would be built and builds nothing.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const STAMP = ".build-stamp";
const INPUTS = ["package.json", "tsconfig.json", "tsup.config.ts"];

/** The workspace's packages under `packages/`: name, directory, and the workspace packages it depends on. */
export function workspacePackages(root) {
  const dir = join(root, "packages");
  const packages = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "package.json")))
    .map((entry) => {
      const path = join(dir, entry.name);
      const manifest = JSON.parse(readFileSync(join(path, "package.json"), "utf8"));
      const deps = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.devDependencies });
      return { name: manifest.name, path, deps };
    });
  const names = new Set(packages.map((pkg) => pkg.name));
  for (const pkg of packages) pkg.deps = pkg.deps.filter((dep) => names.has(dep) && dep !== pkg.name);
  return packages;
}

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path) : [path];
  });
}

/** SHA-256 over a package's inputs, each named by its path inside the package. */
export function inputHash(pkg) {
  const hash = createHash("sha256");
  const paths = [...files(join(pkg.path, "src")), ...INPUTS.map((name) => join(pkg.path, name)).filter((path) => existsSync(path))].sort();
  for (const path of paths) {
    hash.update(relative(pkg.path, path));
    hash.update("\0");
    hash.update(readFileSync(path));
    hash.update("\0");
  }
  return hash.digest("hex");
}

function stampOf(pkg) {
  try {
    return readFileSync(join(pkg.path, "dist", STAMP), "utf8").trim();
  } catch {
    return null;
  }
}

/** The packages in an order where each comes after the workspace packages it depends on. */
export function dependencyOrder(packages) {
  const byName = new Map(packages.map((pkg) => [pkg.name, pkg]));
  const ordered = [];
  const seen = new Set();
  const visit = (pkg) => {
    if (seen.has(pkg.name)) return;
    seen.add(pkg.name);
    for (const dep of pkg.deps) visit(byName.get(dep));
    ordered.push(pkg);
  };
  for (const pkg of packages) visit(pkg);
  return ordered;
}

/**
 * What to build: each package whose inputs differ from its stamp (or that has none), and every
 * package that depends on one of those, in dependency order.
 */
export function plan(packages) {
  const stale = new Set();
  for (const pkg of dependencyOrder(packages)) {
    if (stampOf(pkg) !== inputHash(pkg) || pkg.deps.some((dep) => stale.has(dep))) stale.add(pkg.name);
  }
  return dependencyOrder(packages).filter((pkg) => stale.has(pkg.name));
}

/** Notes that `pkg` is built from inputs hashing to `hash` (taken before its build began). */
export function writeStamp(pkg, hash = inputHash(pkg)) {
  mkdirSync(join(pkg.path, "dist"), { recursive: true });
  writeFileSync(join(pkg.path, "dist", STAMP), `${hash}\n`);
}

function main() {
  const root = join(fileURLToPath(import.meta.url), "..", "..");
  const packages = workspacePackages(root);
  const args = new Set(process.argv.slice(2));
  if (args.has("--stamp")) {
    for (const pkg of packages) writeStamp(pkg);
    return;
  }
  const stale = plan(packages);
  if (stale.length === 0) {
    if (!args.has("--quiet")) console.error("build-changed: every package is built from its current sources");
    return;
  }
  console.error(`build-changed: ${args.has("--dry-run") ? "would build" : "building"} ${stale.map((pkg) => pkg.name).join(", ")}`);
  if (args.has("--dry-run")) return;
  for (const pkg of stale) {
    // The inputs as they were when the build began: an edit made during it is built next time.
    const hash = inputHash(pkg);
    execFileSync("pnpm", ["--silent", "run", "build"], { cwd: pkg.path, stdio: ["ignore", "ignore", "inherit"] });
    writeStamp(pkg, hash);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
