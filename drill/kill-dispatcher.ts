// kill -9 of the dispatcher, again and again, while events pour in; a new one starts each time.
// Afterwards every accepted event must reach every endpoint and every delivery end succeeded.
// Attempts the killed process held come back when their lease expires, so the wait is long (and
// bounded), and the time it took is reported.
import { sleep } from "../bench/load.ts";
import { type StackContext, startStack } from "../bench/stack.ts";
import { deliveryStatuses, reconcile, waitForAllSucceeded } from "./ledger.ts";
import { type DrillReport, unexpectedExits } from "./report.ts";

const endpoints = 4;

export async function killDispatcher(ctx: StackContext, quick: boolean): Promise<DrillReport> {
  const rate = 200;
  const seconds = quick ? 10 : 40;
  const recoveryLimitMs = 150_000;
  const stack = await startStack(ctx, "drill-kill-dispatcher", { dispatchers: 1 });
  try {
    const merchant = await stack.api.createMerchant("Drill kill");
    const paths = Array.from({ length: endpoints }, (_, i) => `/drill/kill/${i}`);
    for (const path of paths) {
      await stack.api.createEndpoint(merchant, {
        url: `${ctx.receiver.url}${path}`,
        event_types: ["drill.kill"],
      });
    }

    ctx.log(
      `kill-dispatcher: ${seconds} s of ${rate} events/s to ${endpoints} endpoints, kill -9 of the dispatcher every ~1 s`,
    );
    let emitting = true;
    let kills = 0;
    const killer = (async () => {
      while (emitting) {
        await sleep(500 + Math.random() * 1000);
        await stack.dispatchers.pop()?.kill();
        kills++;
        await stack.startDispatcher();
      }
    })();
    const load = await stack.api.emitAtRate(merchant, () => "drill.kill", rate, seconds * 1000);
    const accepted = [...load.sentAt.keys()];
    emitting = false;
    await killer;
    // The last replacement is up: from here on nothing is killed.
    const lastRestart = performance.now();
    const atLastRestart = await deliveryStatuses(stack);

    ctx.log(`kill-dispatcher: ${kills} kills; waiting up to ${recoveryLimitMs / 1000} s for every delivery`);
    const expected = accepted.length * endpoints;
    const waited = await waitForAllSucceeded(stack, expected, recoveryLimitMs);
    const recoverySeconds = waited === undefined ? undefined : (performance.now() - lastRestart) / 1000;
    await sleep(500);
    const ledger = reconcile(accepted, paths, await ctx.receiver.take());
    const statuses = await deliveryStatuses(stack);

    const failures = unexpectedExits(stack);
    if (ledger.lost > 0)
      failures.push(`${ledger.lost} deliveries never arrived, e.g. ${ledger.lostSample.join(", ")}`);
    if ((statuses.succeeded ?? 0) !== expected)
      failures.push(`deliveries by status ${JSON.stringify(statuses)}, expected ${expected} succeeded`);
    if (recoverySeconds === undefined) failures.push(`not all delivered within ${recoveryLimitMs / 1000} s`);
    if (load.run.failed > 0) failures.push(`${load.run.failed} emits refused`);
    return {
      drill: "kill-dispatcher",
      pass: failures.length === 0,
      figures: {
        accepted: accepted.length,
        expected_deliveries: expected,
        delivered: ledger.delivered,
        lost: ledger.lost,
        duplicates: ledger.duplicates,
        kills,
        queued_at_last_restart: accepted.length * endpoints - (atLastRestart.succeeded ?? 0),
        recovery_s: recoverySeconds === undefined ? "timeout" : Number(recoverySeconds.toFixed(1)),
      },
      failures,
    };
  } finally {
    await stack.stop();
  }
}
