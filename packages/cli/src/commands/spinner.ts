import type { CliIo } from "../cli.js";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * A spinner with the elapsed time on standard error, redrawn in place, only when standard error
 * is a terminal (a pipe or a log file gets nothing). `stop` erases it.
 */
export function startSpinner(io: CliIo, label: string, intervalMs = 100): { stop(): void } {
  if (!io.errIsTTY) return { stop() {} };
  const began = Date.now();
  let frame = 0;
  const draw = () => {
    const elapsed = Math.floor((Date.now() - began) / 1000);
    const shown = elapsed < 60 ? `${elapsed}s` : `${Math.floor(elapsed / 60)}m${String(elapsed % 60).padStart(2, "0")}s`;
    io.err(`\r${FRAMES[frame++ % FRAMES.length]} ${label} (${shown})\x1b[K`);
  };
  draw();
  const timer = setInterval(draw, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      io.err("\r\x1b[K");
    },
  };
}
