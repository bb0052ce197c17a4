// Latency under steady traffic, with the dispatcher running as in production: how long from the
// emit request leaving the client until the first attempt reaches the receiver (100 events/s), and
// how long an emit takes to answer at 500 events/s.

import { fixedRate, percentile, sleep } from "../load.ts";
import type { Arrival } from "../receiver.ts";
import { type Result, result, round } from "../results.ts";
import { type BenchContext, startStack } from "../stack.ts";

/** Milliseconds from each emit's send to its arrival at the receiver, for arrivals that `count`. */
export function deliveryLatencies(
  arrivals: Arrival[],
  sentAt: Map<string, number>,
  count: (a: Arrival) => boolean = () => true,
): number[] {
  return arrivals.flatMap((a) => {
    const sent = sentAt.get(a.id);
    return sent !== undefined && count(a) ? [a.at - sent] : [];
  });
}

export async function latencyScenarios(ctx: BenchContext): Promise<Result[]> {
  const { sizes } = ctx;
  const stack = await startStack(ctx, "latency", { dispatchers: 1 });
  try {
    const merchant = await stack.api.createMerchant("Bench latency");
    await stack.api.createEndpoint(merchant, {
      url: `${ctx.receiver.url}/latency`,
      event_types: ["payment.succeeded"],
    });
    const type = () => "payment.succeeded";
    ctx.log("first-attempt latency: warm-up at 100/s");
    const warm = await stack.api.emitAtRate(merchant, type, 100, 1000);
    await ctx.receiver.waitForCount(warm.sentAt.size, 30_000);
    await ctx.receiver.reset();

    ctx.log("first-attempt latency: raw transaction + POST at 100/s");
    const rawAt100 = await fixedRate(ctx.baselines.transactionThenPost, 100, 3000);
    ctx.log(`first-attempt latency: ${sizes.latencySeconds} s at 100 events/s`);
    const at100 = await stack.api.emitAtRate(merchant, type, 100, sizes.latencySeconds * 1000);
    const all100 = await ctx.receiver.waitForCount(at100.sentAt.size, 30_000);
    const arrivals100 = await ctx.receiver.take();
    const latencies = deliveryLatencies(arrivals100, at100.sentAt);
    const afterAccepted = deliveryLatencies(arrivals100, at100.answeredAt);
    await ctx.receiver.reset();
    await sleep(500);

    ctx.log("emit latency: raw transactions at 500/s");
    const rawAt500 = await fixedRate(ctx.baselines.transaction, 500, 3000);
    ctx.log(`emit latency: ${sizes.emitP99Seconds} s at 500 events/s`);
    const at500 = await stack.api.emitAtRate(merchant, type, 500, sizes.emitP99Seconds * 1000);
    const all500 = await ctx.receiver.waitForCount(at500.sentAt.size, 60_000);
    const delivered500 = deliveryLatencies(await ctx.receiver.take(), at500.sentAt);

    const raw = (scenario: string, latencies: number[], p: number, rate: number) =>
      result(scenario, round(percentile(latencies, p), 2), "ms", {
        params: { rate, seconds: 3, samples: latencies.length, tables: "primary keys only" },
      });
    const rawP50 = raw("baseline-tx-and-post-p50-at-100", rawAt100.latenciesMs, 50, 100);
    const rawP99 = raw("baseline-tx-and-post-p99-at-100", rawAt100.latenciesMs, 99, 100);
    const rawTxP99 = raw("baseline-pg-tx-p99-at-500", rawAt500.latenciesMs, 99, 500);
    const params = {
      rate: 100,
      seconds: sizes.latencySeconds,
      events: at100.sentAt.size,
      failed_emits: at100.run.failed,
      all_delivered: all100,
      emit_p50_ms: round(percentile(at100.run.latenciesMs, 50), 2),
      emit_p99_ms: round(percentile(at100.run.latenciesMs, 99), 2),
      from_202_p50_ms: round(percentile(afterAccepted, 50), 2),
      from_202_p99_ms: round(percentile(afterAccepted, 99), 2),
      measured: "receiver arrival − emit request sent (from_202: − emit answered)",
      dispatchers: 1,
    };
    return [
      rawP50,
      rawP99,
      rawTxP99,
      result("first-attempt-p50-at-100", round(percentile(latencies, 50), 2), "ms", {
        baseline: rawP50,
        target: { text: "≤ 20 ms", on: "value", max: 20 },
        params,
      }),
      result("first-attempt-p99-at-100", round(percentile(latencies, 99), 2), "ms", {
        baseline: rawP99,
        target: { text: "≤ 100 ms", on: "value", max: 100 },
        params: { ...params, max_ms: round(Math.max(...latencies), 2) },
      }),
      result("emit-p99-at-500", round(percentile(at500.run.latenciesMs, 99), 2), "ms", {
        baseline: rawTxP99,
        target: { text: "≤ 25 ms", on: "value", max: 25 },
        params: {
          rate: 500,
          seconds: sizes.emitP99Seconds,
          events: at500.sentAt.size,
          failed_emits: at500.run.failed,
          achieved_rate: round(at500.run.rate),
          emit_p50_ms: round(percentile(at500.run.latenciesMs, 50), 2),
          all_delivered: all500,
          first_attempt_p50_ms: round(percentile(delivered500, 50), 2),
          first_attempt_p99_ms: round(percentile(delivered500, 99), 2),
          dispatchers: 1,
        },
      }),
    ];
  } finally {
    await stack.stop();
  }
}
