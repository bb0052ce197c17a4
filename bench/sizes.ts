import type { SustainedLoad } from "./load.ts";

/** How big each scenario runs: `--quick` (about a minute in all, for checks) or full. */
export interface Sizes {
  /** Single emits and the 2-insert transaction baseline: the same concurrency. */
  emitLoad: SustainedLoad;
  /** Raw POSTs and POST + transaction: as many connections as the dispatcher's agent opens. */
  postLoad: SustainedLoad;
  batchLoad: SustainedLoad;
  batchSize: number;
  /** Deliveries are measured as backlogs drained: this many events per run, this many runs. */
  deliveriesPerRun: number;
  deliveryRuns: number;
  deliveryEndpoints: number;
  latencySeconds: number;
  emitP99Seconds: number;
  pendingRetries: number;
  retryStreamSeconds: number;
  /** Attempts coming due in the same second, found by polling. */
  retryWave: number;
  isolationSeconds: number;
  storedAttempts: number;
  listRequests: number;
  fanoutEvents: number;
  /** Sustained capacity: emit rates tried in turn, each for this long. */
  capacitySteps: number[];
  capacityStepSeconds: number;
  /** Events emitted at once for the burst row. */
  burstEvents: number;
  /** pg pool size of the raw baselines: the same as a Herald process's pool. */
  poolSize: number;
}

export function sizes(quick: boolean): Sizes {
  const short = { warmupMs: quick ? 500 : 2000, runs: quick ? 3 : 5, runMs: quick ? 1000 : 3000 };
  return {
    emitLoad: { ...short, concurrency: 32 },
    postLoad: { ...short, concurrency: 64 },
    batchLoad: { ...short, concurrency: 4 },
    batchSize: 100,
    deliveriesPerRun: quick ? 1500 : 20_000,
    deliveryRuns: 3,
    deliveryEndpoints: 10,
    latencySeconds: quick ? 4 : 30,
    emitP99Seconds: quick ? 2 : 20,
    pendingRetries: quick ? 10_000 : 100_000,
    retryStreamSeconds: quick ? 4 : 30,
    retryWave: quick ? 5000 : 20_000,
    isolationSeconds: quick ? 3 : 20,
    storedAttempts: quick ? 40_000 : 1_000_000,
    listRequests: quick ? 200 : 1000,
    fanoutEvents: quick ? 4 : 20,
    capacitySteps: quick ? [100, 250, 500, 1000, 1500, 2000] : [250, 500, 1000, 1500, 2000, 2500, 3000, 4000],
    capacityStepSeconds: quick ? 3 : 30,
    burstEvents: quick ? 5000 : 100_000,
    poolSize: 20,
  };
}
