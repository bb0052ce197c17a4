// Postgres stops under load and starts again. While it is down the API must answer 503
// problem+json quickly (no hang, no 500); afterwards it must recover by itself, and every event it
// answered 202 must reach every endpoint.
import { preciseNow, sleep } from "../bench/load.ts";
import { type StackContext, startStack } from "../bench/stack.ts";
import { emitMany, reconcile, waitForAllSucceeded } from "./ledger.ts";
import { type DrillReport, unexpectedExits } from "./report.ts";

const endpoints = 2;
// "No hang beyond a few seconds": the API's own connection timeout is 3 s.
const slowestAnswerMs = 5000;

interface Call {
  sentAt: number;
  ms: number;
  status: number;
  problemJson: boolean;
  id?: string;
}

export async function postgresRestart(ctx: StackContext, quick: boolean): Promise<DrillReport> {
  if (!ctx.postgres.embedded) {
    return {
      drill: "postgres-restart",
      pass: true,
      figures: { skipped: "DATABASE_URL is set: the drill stops only a server it started" },
      failures: [],
    };
  }
  const downMs = quick ? 5000 : 15_000;
  const stack = await startStack(ctx, "drill-postgres-restart", { dispatchers: 1 });
  try {
    const merchant = await stack.api.createMerchant("Drill restart");
    const paths = Array.from({ length: endpoints }, (_, i) => `/drill/pg/${i}`);
    for (const path of paths) {
      await stack.api.createEndpoint(merchant, {
        url: `${ctx.receiver.url}${path}`,
        event_types: ["drill.pg"],
      });
    }
    const warm = await emitMany([stack.api], merchant, "drill.pg", 50, 4);

    const calls: Call[] = [];
    let loading = true;
    let n = 0;
    const worker = async () => {
      while (loading) {
        const sentAt = preciseNow();
        const emitted = await stack.api
          .emit(merchant, "drill.pg", n++)
          .catch(() => ({ status: 0, id: undefined, answer: { contentType: "" } }));
        calls.push({
          sentAt,
          ms: preciseNow() - sentAt,
          status: emitted.status,
          problemJson: emitted.answer.contentType.startsWith("application/problem+json"),
          ...(emitted.status === 202 && { id: emitted.id }),
        });
        // Refusals come fast; do not spin on them.
        if (emitted.status !== 202) await sleep(20);
      }
    };
    ctx.log(`postgres-restart: load on, stopping PostgreSQL for ${downMs / 1000} s`);
    const workers = Array.from({ length: 8 }, worker);
    await sleep(2000);
    const stopAt = preciseNow();
    await ctx.postgres.stop();
    const downAt = preciseNow();
    await sleep(downMs);
    const startAt = preciseNow();
    await ctx.postgres.start();
    const upAt = preciseNow();
    ctx.log(
      `postgres-restart: PostgreSQL back after ${((upAt - stopAt) / 1000).toFixed(1)} s; waiting for 202s`,
    );
    const recoveredBy = upAt + 60_000;
    while (!calls.some((c) => c.sentAt >= upAt && c.status === 202) && preciseNow() < recoveredBy)
      await sleep(100);
    await sleep(2000);
    loading = false;
    await Promise.all(workers);

    const accepted = [...warm.ids, ...calls.flatMap((c) => (c.id ? [c.id] : []))];
    const whileDown = calls.filter((c) => c.sentAt >= downAt && c.sentAt < startAt);
    const firstAfter = calls
      .filter((c) => c.sentAt >= upAt && c.status === 202)
      .sort((a, b) => a.sentAt - b.sentAt)[0];
    const recoverySeconds = firstAfter ? (firstAfter.sentAt + firstAfter.ms - upAt) / 1000 : undefined;
    const statuses: Record<string, number> = {};
    for (const c of whileDown) statuses[c.status] = (statuses[c.status] ?? 0) + 1;
    const slowest = Math.max(0, ...calls.filter((c) => c.status !== 202).map((c) => c.ms));

    ctx.log(`postgres-restart: ${accepted.length} accepted; waiting for every delivery`);
    const expected = accepted.length * endpoints;
    const settled = await waitForAllSucceeded(stack, expected, 120_000);
    await sleep(500);
    const ledger = reconcile(accepted, paths, await ctx.receiver.take());

    const failures = unexpectedExits(stack);
    const errors = calls.filter((c) => c.status >= 500 && c.status !== 503);
    if (errors.length > 0)
      failures.push(`${errors.length} answers ${[...new Set(errors.map((c) => c.status))]}`);
    const notProblem = calls.filter((c) => c.status === 503 && !c.problemJson);
    if (notProblem.length > 0) failures.push(`${notProblem.length} 503s not application/problem+json`);
    const noAnswer = calls.filter((c) => c.status === 0);
    if (noAnswer.length > 0) failures.push(`${noAnswer.length} requests got no HTTP answer`);
    if (whileDown.length === 0 || (statuses[503] ?? 0) === 0)
      failures.push("no 503 seen while Postgres was down");
    if (slowest > slowestAnswerMs)
      failures.push(`a refusal took ${Math.round(slowest)} ms (limit ${slowestAnswerMs})`);
    if (recoverySeconds === undefined) failures.push("no 202 within 60 s of Postgres starting again");
    if (ledger.lost > 0)
      failures.push(`${ledger.lost} deliveries never arrived, e.g. ${ledger.lostSample.join(", ")}`);
    if (settled === undefined) failures.push("not every delivery succeeded within 120 s");
    return {
      drill: "postgres-restart",
      pass: failures.length === 0,
      figures: {
        accepted: accepted.length,
        down_s: Number(((upAt - stopAt) / 1000).toFixed(1)),
        answers_while_down: JSON.stringify(statuses),
        slowest_refusal_ms: Math.round(slowest),
        recovery_s: recoverySeconds === undefined ? "never" : Number(recoverySeconds.toFixed(2)),
        delivered: ledger.delivered,
        lost: ledger.lost,
        duplicates: ledger.duplicates,
      },
      failures,
    };
  } finally {
    if (ctx.postgres.embedded) await ctx.postgres.start();
    await stack.stop();
  }
}
