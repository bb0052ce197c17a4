// Throttling: one endpoint limited to 20 deliveries a second gets a burst of events all at once,
// with two dispatchers taking work; another endpoint of another merchant gets the same burst with
// no limit. The row is the throttled endpoint's arrival rate over the burst (first to last
// arrival), held to its limit ± 10 %; the unthrottled endpoint's drain time rides along.
import { type Result, result, round } from "../results.ts";
import { type BenchContext, startStack } from "../stack.ts";

const limit = 20;

export async function throttle(ctx: BenchContext): Promise<Result[]> {
  const events = ctx.quick ? 100 : 1000;
  const stack = await startStack(ctx, "throttle", { dispatchers: 2 });
  try {
    const small = await stack.api.createMerchant("Bench throttled");
    await stack.api.createEndpoint(small, {
      url: `${ctx.receiver.url}/throttle/limited`,
      rate_limit_per_second: limit,
    });
    const large = await stack.api.createMerchant("Bench unthrottled");
    await stack.api.createEndpoint(large, { url: `${ctx.receiver.url}/throttle/free` });
    await ctx.receiver.reset();
    ctx.log(`throttle: ${events} events at once to an endpoint limited to ${limit}/s, and to one without`);
    for (let first = 0; first < events; first += 500) {
      const count = Math.min(500, events - first);
      await stack.api.emitBatch(small, ["throttle.test"], first, count);
      await stack.api.emitBatch(large, ["throttle.test"], first, count);
    }
    const complete = await ctx.receiver.waitForCount(2 * events, (events / limit) * 1000 + 30_000);
    const arrivals = await ctx.receiver.take();
    const limited = arrivals
      .filter((a) => a.path === "/throttle/limited")
      .map((a) => a.at)
      .sort((a, b) => a - b);
    const free = arrivals
      .filter((a) => a.path === "/throttle/free")
      .map((a) => a.at)
      .sort((a, b) => a - b);
    const rate = (limited.length - 1) / ((limited.at(-1)! - limited[0]!) / 1000);
    const gaps = limited.slice(1).map((t, i) => t - limited[i]!);
    return [
      result("throttle-rate", round(rate, 2), "per s", {
        target: { text: `${limit}/s ± 10 %`, on: "value", min: limit * 0.9, max: limit * 1.1 },
        params: {
          limit_per_second: limit,
          events,
          dispatchers: 2,
          all_arrived: complete,
          limited_arrivals: limited.length,
          smallest_gap_ms: round(Math.min(...gaps), 2),
          unthrottled_drain_ms: round(free.at(-1)! - free[0]!, 1),
        },
      }),
    ];
  } finally {
    await stack.stop();
  }
}
