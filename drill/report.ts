import type { Stack } from "../bench/stack.ts";

/** One drill's outcome: its figures (accepted, delivered, lost, duplicates, recovery…) and why it failed. */
export interface DrillReport {
  drill: string;
  pass: boolean;
  figures: Record<string, number | string>;
  failures: string[];
}

export function printReports(reports: DrillReport[]): string {
  return reports
    .map((r) => {
      const figures = Object.entries(r.figures)
        .map(([name, value]) => `${name}=${value}`)
        .join("  ");
      const why = r.failures.map((f) => `\n    ✗ ${f}`).join("");
      return `${r.pass ? "PASS" : "FAIL"}  ${r.drill.padEnd(18)} ${figures}${why}`;
    })
    .join("\n");
}

/** A failure line for every Herald process of the stack that exited on its own, with its last words. */
export function unexpectedExits(stack: Stack): string[] {
  return [...stack.apis, ...stack.dispatchers].flatMap((p) => {
    const how = p.exited();
    return how
      ? [`${p.role} ${p.pid} exited (${how}):\n${p.output().split("\n").slice(-30).join("\n")}`]
      : [];
  });
}
