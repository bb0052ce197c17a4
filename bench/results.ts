import { mkdir, writeFile } from "node:fs/promises";

/** What a figure is held against: the value itself, or its ratio to the baseline. */
export interface Target {
  text: string;
  on: "value" | "ratio";
  min?: number;
  max?: number;
}

export interface Baseline {
  scenario: string;
  value: number;
  unit: string;
}

/** One row of the table and one `bench/results/<scenario>.json`. */
export interface Result {
  scenario: string;
  value: number;
  unit: string;
  baseline: Baseline | null;
  ratio: number | null;
  target: Target | null;
  /** null when the row has no target (a baseline, or a figure reported for information). */
  pass: boolean | null;
  params: Record<string, unknown>;
}

export function result(
  scenario: string,
  value: number,
  unit: string,
  options: { baseline?: Result | undefined; target?: Target; params?: Record<string, unknown> } = {},
): Result {
  const baseline = options.baseline
    ? { scenario: options.baseline.scenario, value: options.baseline.value, unit: options.baseline.unit }
    : null;
  const ratio = baseline && baseline.value > 0 ? round(value / baseline.value, 3) : null;
  const target = options.target ?? null;
  let pass: boolean | null = null;
  if (target) {
    const checked = target.on === "ratio" ? ratio : value;
    pass =
      checked !== null &&
      Number.isFinite(checked) &&
      (target.min === undefined || checked >= target.min) &&
      (target.max === undefined || checked <= target.max);
  }
  return {
    scenario,
    value: round(value, 2),
    unit,
    baseline,
    ratio,
    target,
    pass,
    params: options.params ?? {},
  };
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export async function writeResult(dir: string, r: Result): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}/${r.scenario}.json`, `${JSON.stringify(r, null, 2)}\n`);
}

const fmt = (n: number) =>
  Number.isInteger(n) ? n.toLocaleString("en-US") : n.toLocaleString("en-US", { maximumFractionDigits: 2 });

/** The table printed at the end, Markdown so it can be pasted into docs/benchmarks.md as it is. */
export function table(results: Result[]): string {
  const rows = results.map((r) => [
    r.scenario,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline ? `${fmt(r.baseline.value)} ${r.baseline.unit} (${r.baseline.scenario})` : "—",
    r.ratio === null ? "—" : fmt(r.ratio),
    r.target?.text ?? "—",
    r.pass === null ? "—" : r.pass ? "pass" : "**FAIL**",
  ]);
  const header = ["scenario", "figure", "baseline", "ratio", "target", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
