import { styleText } from "node:util";

/**
 * How the CLI talks: tables and colour for a person at a terminal, JSON for scripts (`--json`).
 * Colour only when stdout is a TTY and NO_COLOR is unset; styleText checks both.
 */

type Style = Parameters<typeof styleText>[0];
export const paint = (style: Style, text: string) => styleText(style, text, { stream: process.stdout });

export interface Output {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export type Column<T> = [header: string, cell: (row: T) => string | number | null | undefined];

/** Left-aligned columns, widths from the content; a header line dimmed. */
export function printTable<T>(rows: readonly T[], columns: Column<T>[]): void {
  if (rows.length === 0) {
    process.stdout.write(`${paint("dim", "(none)")}\n`);
    return;
  }
  const cells = rows.map((row) => columns.map(([, cell]) => String(cell(row) ?? "—")));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${paint("dim", line(columns.map(([h]) => h.toUpperCase())))}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}

/** `key  value` lines for one object. */
export function printRecord(record: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  for (const [key, value] of Object.entries(record)) {
    const text =
      value === null || value === undefined
        ? "—"
        : typeof value === "object"
          ? JSON.stringify(value)
          : String(value);
    process.stdout.write(`${paint("dim", key.padEnd(width))}  ${text}\n`);
  }
}

/** One result: JSON with --json, else a record or table. */
export function show(out: Output, value: unknown, human: () => void): void {
  if (out.json) printJson(value);
  else human();
}

export const statusColour = (status: number | null | undefined): string => {
  if (status === null || status === undefined) return paint("red", "—");
  const text = String(status);
  return status >= 200 && status < 300 ? paint("green", text) : paint(status >= 500 ? "red" : "yellow", text);
};

export const deliveryStatus = (status: string) =>
  paint(
    status === "succeeded" ? "green" : status === "failed" ? "red" : status === "pending" ? "yellow" : "dim",
    status,
  );
