// Isolation: half the events go to one endpoint, half to two healthy ones. First every endpoint
// answers at once; then the one endpoint stops answering (each attempt times out after 2 s). The
// healthy endpoints' emit → arrival p99 of the second run is held against the first.
import { percentile, sleep } from "../load.ts";
import { type Result, result, round } from "../results.ts";
import { type BenchContext, startStack } from "../stack.ts";
import { deliveryLatencies } from "./latency.ts";

const rate = 100;
const healthyEndpoints = 2;

export async function isolation(ctx: BenchContext): Promise<Result[]> {
  const { sizes } = ctx;
  const stack = await startStack(ctx, "isolation", { dispatchers: 1 });
  try {
    const merchant = await stack.api.createMerchant("Bench isolation");
    for (let i = 0; i < healthyEndpoints; i++) {
      await stack.api.createEndpoint(merchant, {
        url: `${ctx.receiver.url}/iso/healthy/${i}`,
        event_types: ["iso.healthy"],
      });
    }
    await stack.api.createEndpoint(merchant, {
      url: `${ctx.receiver.url}/iso/slow`,
      event_types: ["iso.slow"],
      timeout_ms: 2000,
    });
    const typeOf = (i: number) => (i % 2 === 0 ? "iso.healthy" : "iso.slow");

    const phase = async (slowHangs: boolean, seconds: number) => {
      await ctx.receiver.reset();
      await ctx.receiver.hang("/iso/slow", slowHangs);
      const load = await stack.api.emitAtRate(merchant, typeOf, rate, seconds * 1000);
      const healthyEvents = [...load.types.values()].filter((t) => t === "iso.healthy").length;
      const slowEvents = load.types.size - healthyEvents;
      // Every healthy delivery, and on the first run the slow endpoint's too.
      const expected = healthyEvents * healthyEndpoints + (slowHangs ? 0 : slowEvents);
      const complete = await ctx.receiver.waitForCount(expected, 30_000);
      const arrivals = await ctx.receiver.take();
      const healthy = deliveryLatencies(arrivals, load.sentAt, (a) => a.path.startsWith("/iso/healthy/"));
      const slowArrivals = arrivals.filter((a) => a.path === "/iso/slow").length;
      return { healthy, complete, slowArrivals, events: load.sentAt.size };
    };

    ctx.log("isolation: warm-up");
    await phase(false, 1);
    ctx.log(`isolation: ${sizes.isolationSeconds} s at ${rate}/s, all endpoints healthy`);
    const allHealthy = await phase(false, sizes.isolationSeconds);
    await sleep(500);
    ctx.log(
      `isolation: ${sizes.isolationSeconds} s at ${rate}/s, one endpoint timing out on half the traffic`,
    );
    const oneSlow = await phase(true, sizes.isolationSeconds);
    await ctx.receiver.hang("/iso/slow", false);

    const shared = {
      rate,
      seconds: sizes.isolationSeconds,
      healthy_endpoints: healthyEndpoints,
      traffic_to_timing_out_endpoint: "50 %",
      timeout_ms: 2000,
      measured: "healthy endpoints: receiver arrival − emit request sent",
    };
    const before = result("isolation-all-healthy-p99", round(percentile(allHealthy.healthy, 99), 2), "ms", {
      params: { ...shared, samples: allHealthy.healthy.length, all_arrived: allHealthy.complete },
    });
    return [
      before,
      result("isolation-one-timing-out-p99", round(percentile(oneSlow.healthy, 99), 2), "ms", {
        baseline: before,
        target: { text: "≤ 2 × all-healthy p99", on: "ratio", max: 2 },
        params: {
          ...shared,
          samples: oneSlow.healthy.length,
          all_healthy_arrived: oneSlow.complete,
          p50_ms: round(percentile(oneSlow.healthy, 50), 2),
          all_healthy_p50_ms: round(percentile(allHealthy.healthy, 50), 2),
          attempts_reaching_timing_out_endpoint: oneSlow.slowArrivals,
        },
      }),
    ];
  } finally {
    await stack.stop();
  }
}
