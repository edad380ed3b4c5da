import type { CliIo } from "../cli.js";

/** Prints a value as indented JSON, for `--json`. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** A value as one cell: text as is, nothing as `-`, anything else as compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value.length === 0 ? "-" : value.join(", ");
  return JSON.stringify(value);
}

/** Prints rows under headers, in columns padded to their widest cell. */
export function printTable(io: CliIo, headers: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const cells = rows.map((row) => row.map(cell));
  const widths = headers.map((header, column) => Math.max(header.length, ...cells.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) => row.map((text, column) => (column === row.length - 1 ? text : text.padEnd(widths[column]!))).join("  ");
  io.out(`${[line(headers), ...cells.map(line)].join("\n")}\n`);
}

/** Prints an object's fields, one a line: `name  value`. */
export function printRecord(io: CliIo, record: object): void {
  const entries = Object.entries(record);
  const width = Math.max(...entries.map(([name]) => name.length));
  io.out(`${entries.map(([name, value]) => `${name.padEnd(width)}  ${cell(value)}`).join("\n")}\n`);
}

/** The line under a table: which rows of how many, and how to see more. */
export function pageFooter(io: CliIo, page: { pagination: { offset: number; total: number }; data: unknown[] }): void {
  const { offset, total } = page.pagination;
  if (page.data.length === 0) {
    io.out(total === 0 ? "(none)\n" : `(none at offset ${offset}; ${total} in all)\n`);
    return;
  }
  const more = offset + page.data.length < total ? `; --offset ${offset + page.data.length} for more` : "";
  io.out(`${offset + 1}-${offset + page.data.length} of ${total}${more}\n`);
}

/** Prints an answer: as JSON with `--json`, else its fields one a line. Returns exit code 0. */
export function show(context: { readonly json: boolean; readonly io: CliIo }, value: object): number {
  if (context.json) printJson(context.io, value);
  else printRecord(context.io, value);
  return 0;
}

/** Prints a page of a list: as JSON with `--json`, else a table with a footer. Returns exit code 0. */
export function showPage<T>(
  context: { readonly json: boolean; readonly io: CliIo },
  page: { data: T[]; pagination: { offset: number; total: number } },
  headers: readonly string[],
  row: (item: T) => readonly unknown[],
): number {
  if (context.json) {
    printJson(context.io, page);
    return 0;
  }
  printTable(context.io, headers, page.data.map(row));
  pageFooter(context.io, page);
  return 0;
}
