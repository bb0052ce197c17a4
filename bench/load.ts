/** One unit of work (an HTTP request, a transaction…): resolves true when it succeeded. */
export type Unit = () => Promise<boolean>;

export interface LoadRun {
  ok: number;
  failed: number;
  elapsedMs: number;
  /** Successful units per second. */
  rate: number;
  /** Duration of every unit, successful or not, in ms. */
  latenciesMs: number[];
}

export interface SustainedLoad {
  concurrency: number;
  warmupMs: number;
  runs: number;
  runMs: number;
}

/** `concurrency` workers, each starting its next unit the moment its last one ends, for `durationMs`. */
export async function closedLoop(unit: Unit, concurrency: number, durationMs: number): Promise<LoadRun> {
  const latenciesMs: number[] = [];
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      const succeeded = await unit().catch(() => false);
      latenciesMs.push(performance.now() - t);
      if (succeeded) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  return { ok, failed, elapsedMs, rate: (ok * 1000) / elapsedMs, latenciesMs };
}

/** A warm-up run, then `runs` short runs: the median rate, as the figure least moved by a neighbour's burst. */
export async function sustainedRate(
  unit: Unit,
  load: SustainedLoad,
): Promise<{ rate: number; rates: number[]; failed: number; latenciesMs: number[] }> {
  await closedLoop(unit, load.concurrency, load.warmupMs);
  const runs: LoadRun[] = [];
  for (let i = 0; i < load.runs; i++) runs.push(await closedLoop(unit, load.concurrency, load.runMs));
  const rates = runs.map((r) => Math.round(r.rate));
  return {
    rate: median(rates),
    rates,
    failed: runs.reduce((sum, r) => sum + r.failed, 0),
    latenciesMs: runs.flatMap((r) => r.latenciesMs),
  };
}

export interface PairedRates {
  baseline: { rate: number; rates: number[] };
  measured: { rate: number; rates: number[]; failed: number; latenciesMs: number[] };
}

/**
 * The baseline and the measured unit in alternating runs (B M B M …) after a warm-up of each, so
 * that both see the same weather on a machine shared with other work. Medians of each.
 */
export async function pairedRates(baseline: Unit, measured: Unit, load: SustainedLoad): Promise<PairedRates> {
  await closedLoop(baseline, load.concurrency, load.warmupMs);
  await closedLoop(measured, load.concurrency, load.warmupMs);
  const baselineRuns: LoadRun[] = [];
  const measuredRuns: LoadRun[] = [];
  for (let i = 0; i < load.runs; i++) {
    baselineRuns.push(await closedLoop(baseline, load.concurrency, load.runMs));
    measuredRuns.push(await closedLoop(measured, load.concurrency, load.runMs));
  }
  const rates = (runs: LoadRun[]) => runs.map((r) => Math.round(r.rate));
  return {
    baseline: { rate: median(rates(baselineRuns)), rates: rates(baselineRuns) },
    measured: {
      rate: median(rates(measuredRuns)),
      rates: rates(measuredRuns),
      failed: measuredRuns.reduce((sum, r) => sum + r.failed, 0),
      latenciesMs: measuredRuns.flatMap((r) => r.latenciesMs),
    },
  };
}

/**
 * Starts units at a fixed rate whether or not earlier ones finished (an open loop, as real
 * traffic arrives), for `durationMs`; waits for the last to end.
 */
export async function fixedRate(unit: Unit, perSecond: number, durationMs: number): Promise<LoadRun> {
  const total = Math.round((perSecond * durationMs) / 1000);
  const latenciesMs: number[] = [];
  const running: Promise<void>[] = [];
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  for (let i = 0; i < total; ) {
    while (i < total && started + (i * 1000) / perSecond <= performance.now()) {
      const t = performance.now();
      running.push(
        unit()
          .catch(() => false)
          .then((succeeded) => {
            latenciesMs.push(performance.now() - t);
            if (succeeded) ok++;
            else failed++;
          }),
      );
      i++;
    }
    await sleep(1);
  }
  await Promise.all(running);
  const elapsedMs = performance.now() - started;
  return { ok, failed, elapsedMs, rate: (ok * 1000) / elapsedMs, latenciesMs };
}

/** Nearest-rank percentile, `p` in 0–100. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on this machine. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
