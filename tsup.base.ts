import type { Options } from "tsup";

/**
 * How every package builds: ES modules with declarations and source maps, for ES2022, from
 * `src/index.ts` unless a package names its entries. Each package lists what stays external.
 */
export function packageBuild(options: Options & { external: string[] }): Options {
  return { entry: ["src/index.ts"], format: ["esm"], dts: true, sourcemap: true, clean: true, target: "es2022", ...options };
}
