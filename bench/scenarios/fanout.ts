// Fan-out: one event to 100 endpoints. How long the emit takes to answer, and how long until the
// 100th endpoint has it. Events are sent one at a time, each after the last one's 100 arrivals.
import { median, percentile, sleep } from "../load.ts";
import { type Result, result, round } from "../results.ts";
import { type BenchContext, startStack } from "../stack.ts";

const endpointCount = 100;

export async function fanout(ctx: BenchContext): Promise<Result[]> {
  const stack = await startStack(ctx, "fanout", { dispatchers: 1 });
  try {
    const merchant = await stack.api.createMerchant("Bench fan-out");
    for (let i = 0; i < endpointCount; i++) {
      await stack.api.createEndpoint(merchant, {
        url: `${ctx.receiver.url}/fanout/${i}`,
        event_types: ["fanout.*"],
      });
    }
    const emitMs: number[] = [];
    const firstMs: number[] = [];
    const lastMs: number[] = [];
    for (let k = -1; k < ctx.sizes.fanoutEvents; k++) {
      await ctx.receiver.reset();
      const emitted = await stack.api.emit(merchant, "fanout.test", k);
      const answeredMs = performance.timeOrigin + performance.now() - emitted.sentAt;
      if (emitted.status !== 202 || emitted.answer.body.deliveries !== endpointCount)
        throw new Error(`fan-out emit: ${emitted.status} ${JSON.stringify(emitted.answer.body)}`);
      if (!(await ctx.receiver.waitForCount(endpointCount, 30_000)))
        throw new Error(`fan-out: ${await ctx.receiver.count()} of ${endpointCount} arrived`);
      const arrivals = (await ctx.receiver.take()).map((a) => a.at - emitted.sentAt);
      // The first event warms the dispatcher's connections and caches; it is not counted.
      if (k >= 0) {
        emitMs.push(answeredMs);
        firstMs.push(Math.min(...arrivals));
        lastMs.push(Math.max(...arrivals));
      }
      await sleep(100);
    }
    return [
      result("fanout-100-last-arrival-p50", round(median(lastMs), 2), "ms", {
        baseline: ctx.results.get("first-attempt-p50-at-100"),
        params: {
          endpoints: endpointCount,
          events: lastMs.length,
          emit_p50_ms: round(median(emitMs), 2),
          emit_max_ms: round(Math.max(...emitMs), 2),
          first_arrival_p50_ms: round(median(firstMs), 2),
          last_arrival_p99_ms: round(percentile(lastMs, 99), 2),
          measured:
            "emit request sent → 100th endpoint's arrival; baseline is one endpoint's first-attempt p50",
        },
      }),
    ];
  } finally {
    await stack.stop();
  }
}
