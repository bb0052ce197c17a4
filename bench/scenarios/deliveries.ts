// Delivery throughput: a backlog of events, emitted while no dispatcher runs, drained by one
// dispatcher into a receiver that answers 200 at once; before each drain, a run of the raw
// (POST + transaction) baseline. The dispatcher's memory is sampled meanwhile.
import { baselineRow } from "../baselines.ts";
import { cpuBetween, cpuPerUnit, readCpu } from "../cpu.ts";
import { closedLoop, median, sleep, sustainedRate } from "../load.ts";
import { type Result, result, round } from "../results.ts";
import { type BenchContext, cpuParts, startStack } from "../stack.ts";

export async function deliveryScenarios(ctx: BenchContext): Promise<Result[]> {
  const { sizes, baselines } = ctx;
  const stack = await startStack(ctx, "deliveries");
  try {
    const merchant = await stack.api.createMerchant("Bench deliveries");
    // Several endpoints, as a provider has: one endpoint alone is held to its in-flight limit.
    const types = Array.from({ length: sizes.deliveryEndpoints }, (_, i) => `bench.e${i}`);
    for (const [i, type] of types.entries()) {
      await stack.api.createEndpoint(merchant, {
        url: `${ctx.receiver.url}/deliveries/${i}`,
        event_types: [type],
      });
    }
    ctx.log("deliveries: the limits: raw POSTs alone, raw batched writes of attempt rows alone");
    const posts = await sustainedRate(baselines.post, sizes.postLoad);
    const attemptWrites = await sustainedRate(baselines.attemptWrites, sizes.batchLoad);
    await closedLoop(baselines.postThenTransaction, sizes.postLoad.concurrency, sizes.postLoad.warmupMs);
    const baselineCpu = await cpuPerUnit(
      baselines.postThenTransaction,
      sizes.postLoad.concurrency,
      sizes.postLoad.runMs,
      cpuParts(ctx),
    );
    const baselineRates: number[] = [];
    const rates: number[] = [];
    const cpuPerDelivery: Record<string, number>[] = [];
    let peakRssMb = 0;
    let idleRssMb = 0;
    let emitted = 0;
    for (let run = 0; run < sizes.deliveryRuns; run++) {
      const raw = await closedLoop(
        baselines.postThenTransaction,
        sizes.postLoad.concurrency,
        sizes.postLoad.runMs,
      );
      baselineRates.push(Math.round(raw.rate));
      await ctx.receiver.reset();
      const n = sizes.deliveriesPerRun;
      for (let sent = 0; sent < n; ) {
        const batches = [];
        for (let c = 0; c < 4 && sent < n; c++, sent += sizes.batchSize) {
          batches.push(
            stack.api.emitBatch(merchant, types, emitted + sent, Math.min(sizes.batchSize, n - sent)),
          );
        }
        await Promise.all(batches);
      }
      emitted += n;
      const dispatcher = await stack.startDispatcher();
      idleRssMb = Math.max(idleRssMb, dispatcher.rssMb() ?? 0);
      const sampler = setInterval(() => {
        peakRssMb = Math.max(peakRssMb, dispatcher.rssMb() ?? 0);
      }, 100);
      // CPU over the middle of the drain: not the process start, not the tail.
      const limitMs = 60_000 + n * 10;
      await ctx.receiver.waitForCount(Math.floor(n * 0.1), limitMs);
      const [cpuBefore, countBefore] = [readCpu(cpuParts(ctx, stack)), await ctx.receiver.count()];
      await ctx.receiver.waitForCount(Math.floor(n * 0.9), limitMs);
      const [cpuAfter, countAfter] = [readCpu(cpuParts(ctx, stack)), await ctx.receiver.count()];
      cpuPerDelivery.push(cpuBetween(cpuBefore, cpuAfter, countAfter - countBefore));
      const delivered = await ctx.receiver.waitForCount(n, limitMs);
      clearInterval(sampler);
      await stack.stopDispatchers();
      if (!delivered) throw new Error(`deliveries: only ${await ctx.receiver.count()} of ${n} arrived`);
      const times = (await ctx.receiver.take()).map((a) => a.at).sort((a, b) => a - b);
      // The middle 80 %: neither the process start nor the last stragglers.
      const from = times[Math.floor(n * 0.1)]!;
      const to = times[Math.floor(n * 0.9)]!;
      rates.push(Math.round((n * 0.8 * 1000) / (to - from)));
      ctx.log(
        `deliveries: run ${run + 1}: ${rates.at(-1)} deliveries/s (raw ${baselineRates.at(-1)}/s), peak RSS ${round(peakRssMb)} MB`,
      );
      await sleep(200);
    }
    const rawPostTx = baselineRow(
      ctx,
      "baseline-post-and-tx",
      median(baselineRates),
      "POST+tx/s",
      sizes.postLoad,
      baselineRates,
    );
    rawPostTx.params.cpu_ms_per_unit = baselineCpu;
    const rawPosts = baselineRow(
      ctx,
      "baseline-http-post",
      posts.rate,
      "POST/s",
      sizes.postLoad,
      posts.rates,
    );
    const rawAttempts = baselineRow(
      ctx,
      "baseline-attempt-writes",
      attemptWrites.rate * sizes.batchSize,
      "rows/s",
      sizes.batchLoad,
      attemptWrites.rates.map((r) => r * sizes.batchSize),
    );
    rawAttempts.params.rows_per_statement = sizes.batchSize;
    // Whichever limit is lower binds: a delivery needs one POST and one attempt row.
    const binding = rawPosts.value <= rawAttempts.value ? rawPosts : rawAttempts;
    return [
      rawPosts,
      rawAttempts,
      rawPostTx,
      result("deliveries", median(rates), "deliveries/s", {
        baseline: rawPostTx,
        target: { text: "≥ 0.5 × baseline", on: "ratio", min: 0.5 },
        params: {
          backlog_per_run: sizes.deliveriesPerRun,
          runs: rates,
          endpoints: sizes.deliveryEndpoints,
          dispatchers: 1,
          measured: "middle 80 % of arrivals",
          cpu_ms_per_delivery: cpuPerDelivery.at(-1),
        },
      }),
      result("deliveries-vs-limits", median(rates), "deliveries/s", {
        baseline: binding,
        params: {
          binding: binding.scenario,
          raw_posts_per_s: rawPosts.value,
          raw_attempt_rows_per_s: rawAttempts.value,
          measured: "the deliveries row against the lower of the two physical limits, same run",
        },
      }),
      result("dispatcher-rss", round(peakRssMb), "MB", {
        target: { text: "≤ 250 MB", on: "value", max: 250 },
        params: { idle_after_start_mb: round(idleRssMb), sampled_every_ms: 100, during: "deliveries" },
      }),
    ];
  } finally {
    await stack.stop();
  }
}
