import { type ParseArgsConfig, parseArgs } from "node:util";

/** A mistake in the command line or the environment: reported in one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * `node:util`'s `parseArgs`, strict and without positionals, its refusal a `UsageError` with the
 * first sentence of its message (node's run to several): for the commands that take flags alone.
 */
export function parseFlags<const Options extends NonNullable<ParseArgsConfig["options"]>>(
  args: readonly string[],
  options: Options,
): ReturnType<typeof parseArgs<{ args: string[]; options: Options; strict: true; allowPositionals: false }>> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
  } catch (error) {
    const message = error instanceof Error ? (error.message.split(/\.\s/)[0] ?? error.message) : String(error);
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
  }
}
