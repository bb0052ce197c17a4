// Ingest: how many events the API accepts per second, one per request and in batches, each in
// alternating runs with its raw-Postgres baseline. The dispatcher is not running, so the figure is
// the API and Postgres alone, as the baseline is.
import { baselineRow } from "../baselines.ts";
import { cpuPerUnit } from "../cpu.ts";
import { pairedRates, percentile } from "../load.ts";
import { type Result, result, round } from "../results.ts";
import { type BenchContext, cpuParts, startStack } from "../stack.ts";

export async function emitScenarios(ctx: BenchContext): Promise<Result[]> {
  const { sizes, baselines } = ctx;
  const stack = await startStack(ctx, "emit");
  try {
    const merchant = await stack.api.createMerchant("Bench emit");
    await stack.api.createEndpoint(merchant, {
      url: `${ctx.receiver.url}/emit`,
      event_types: ["payment.succeeded"],
    });
    let n = 0;
    const emitOne = async () => (await stack.api.emit(merchant, "payment.succeeded", n++)).status === 202;
    const emitBatch = async () => {
      n += sizes.batchSize;
      return (await stack.api.emitBatch(merchant, ["payment.succeeded"], n, sizes.batchSize)).length > 0;
    };
    const cpu = (unit: () => Promise<boolean>, concurrency: number) =>
      cpuPerUnit(unit, concurrency, sizes.emitLoad.runMs, cpuParts(ctx, stack));
    ctx.log("emit-single: single-event emits at fixed concurrency, beside raw 2-insert transactions");
    const single = await pairedRates(baselines.transaction, emitOne, sizes.emitLoad);
    const singleCpu = await cpu(emitOne, sizes.emitLoad.concurrency);
    const txCpu = await cpu(baselines.transaction, sizes.emitLoad.concurrency);
    await stack.statements("emit-single");
    ctx.log(`emit-batch: batches of ${sizes.batchSize}, beside raw batch inserts`);
    const batch = await pairedRates(baselines.batchTransaction, emitBatch, sizes.batchLoad);
    const perEvent = (cpu: Record<string, number>) =>
      Object.fromEntries(Object.entries(cpu).map(([part, ms]) => [part, round(ms / sizes.batchSize, 3)]));
    const batchCpu = perEvent(await cpu(emitBatch, sizes.batchLoad.concurrency));
    const batchTxCpu = perEvent(await cpu(baselines.batchTransaction, sizes.batchLoad.concurrency));
    await stack.statements("emit-batch");

    const rawTx = baselineRow(
      ctx,
      "baseline-pg-2insert-tx",
      single.baseline.rate,
      "tx/s",
      sizes.emitLoad,
      single.baseline.rates,
    );
    rawTx.params.cpu_ms_per_tx = txCpu;
    const perBatch = (rates: number[]) => rates.map((r) => r * sizes.batchSize);
    const rawBatch = baselineRow(
      ctx,
      "baseline-pg-batch-insert",
      batch.baseline.rate * sizes.batchSize,
      "events/s",
      sizes.batchLoad,
      perBatch(batch.baseline.rates),
    );
    rawBatch.params.cpu_ms_per_event = batchTxCpu;
    return [
      rawTx,
      result("emit-single", single.measured.rate, "events/s", {
        baseline: rawTx,
        // Issue 13: group commit must beat a naive transaction per event.
        target: { text: "≥ 1.0 × baseline", on: "ratio", min: 1.0 },
        params: {
          concurrency: sizes.emitLoad.concurrency,
          runs: single.measured.rates,
          failed: single.measured.failed,
          latency_p50_ms: round(percentile(single.measured.latenciesMs, 50), 2),
          latency_p99_ms: round(percentile(single.measured.latenciesMs, 99), 2),
          matching_endpoints: 1,
          dispatcher: "not running",
          cpu_ms_per_event: singleCpu,
        },
      }),
      rawBatch,
      result("emit-batch", batch.measured.rate * sizes.batchSize, "events/s", {
        baseline: rawBatch,
        target: { text: "≥ 10,000 events/s", on: "value", min: 10_000 },
        params: {
          batch_size: sizes.batchSize,
          concurrency: sizes.batchLoad.concurrency,
          runs: perBatch(batch.measured.rates),
          failed: batch.measured.failed,
          cpu_ms_per_event: batchCpu,
          matching_endpoints: 1,
          dispatcher: "not running",
        },
      }),
    ];
  } finally {
    await stack.stop();
  }
}
