// Retries start on time with a large queue of pending ones. 100 k attempts wait in the queue, due
// within the next day; meanwhile a stream of events to an endpoint that fails each one twice makes
// retries fall due every second. Lateness is read from the attempts table: started_at − scheduled_at.
import { newId } from "@herald/core";
import { attemptJob, attemptQueue, startQueue } from "@herald/db";
import { percentile } from "../load.ts";
import { type Result, result, round } from "../results.ts";
import { type BenchContext, startStack } from "../stack.ts";

// 3 and 6 minutes of the live schedule become 1.8 and 3.6 s.
const timeScale = 0.01;
const streamRate = 50;

export async function retryPunctuality(ctx: BenchContext): Promise<Result[]> {
  const { sizes } = ctx;
  const stack = await startStack(ctx, "retry-punctuality", {
    dispatchers: 1,
    env: { HERALD_RETRY_TIME_SCALE: String(timeScale) },
  });
  try {
    const merchant = await stack.api.createMerchant("Bench retries");
    await stack.api.createEndpoint(merchant, {
      url: `${ctx.receiver.url}/fail/2/retry`,
      event_types: ["order.retry"],
      retry_policy: "live",
    });

    ctx.log(`retry punctuality: queueing ${sizes.pendingRetries} pending retries`);
    const boss = await startQueue(stack.databaseUrl, { supervise: false, max: 2 });
    const endpoints = Array.from({ length: 1000 }, () => newId("endpoint"));
    const now = Date.now();
    for (let queued = 0; queued < sizes.pendingRetries; queued += 5000) {
      const jobs = Array.from({ length: Math.min(5000, sizes.pendingRetries - queued) }, (_, i) => {
        const due = new Date(now + 3_600_000 + Math.random() * 23 * 3_600_000);
        return attemptJob(
          newId("delivery"),
          { id: endpoints[(queued + i) % endpoints.length]!, timeout_ms: 15_000 },
          "scheduled",
          due,
        );
      });
      await boss.insert(attemptQueue, jobs);
    }
    await boss.stop({ graceful: false, close: true });
    await stack.db.query("ANALYZE");

    ctx.log(
      `retry punctuality: ${sizes.retryStreamSeconds} s of events at ${streamRate}/s, each failing twice`,
    );
    const stream = await stack.api.emitAtRate(
      merchant,
      () => "order.retry",
      streamRate,
      sizes.retryStreamSeconds * 1000,
    );
    const expected = stream.sentAt.size * 3;
    const finished = await ctx.receiver.waitForCount(expected, 60_000);
    const { rows } = await stack.db.query<{ number: number; late_ms: number }>(
      "SELECT number, extract(epoch FROM started_at - scheduled_at) * 1000 AS late_ms FROM attempts",
    );
    const retries = rows.filter((r) => r.number > 1).map((r) => Number(r.late_ms));
    const firsts = rows.filter((r) => r.number === 1).map((r) => Number(r.late_ms));
    return [
      result("retry-punctuality-p99", round(percentile(retries, 99), 1), "ms late", {
        target: { text: "≤ 1,000 ms", on: "value", max: 1000 },
        params: {
          pending_retries: sizes.pendingRetries,
          pending_due: "1–24 h ahead, 1,000 endpoints",
          stream_rate: streamRate,
          stream_seconds: sizes.retryStreamSeconds,
          retry_time_scale: timeScale,
          retries_measured: retries.length,
          expected_retries: stream.sentAt.size * 2,
          all_arrived: finished,
          late_p50_ms: round(percentile(retries, 50), 1),
          late_max_ms: round(Math.max(...retries), 1),
          first_attempt_late_p99_ms: round(percentile(firsts, 99), 1),
          measured: "attempts.started_at − attempts.scheduled_at",
        },
      }),
    ];
  } finally {
    await stack.stop();
  }
}
