// Several API and dispatcher processes on one Postgres. The same load runs first on one API and
// one dispatcher, then on two APIs and three dispatchers: no attempt may be sent twice (nothing is
// killed here), every delivery must arrive, and the throughput must not fall.
import { sleep } from "../bench/load.ts";
import { type StackContext, startStack } from "../bench/stack.ts";
import { emitMany, reconcile, waitForAllSucceeded } from "./ledger.ts";
import { type DrillReport, unexpectedExits } from "./report.ts";

const endpoints = 4;
// Two cores cannot go faster with more processes; falling by more than this is a failure.
const allowedDrop = 0.2;

interface Round {
  accepted: number;
  emitRate: number;
  /** Deliveries per second, from the first emit to the last delivery succeeded. */
  endToEndRate: number;
  delivered: number;
  lost: number;
  duplicates: number;
  attemptsBeyondOne: number;
  settled: boolean;
  exits: string[];
}

async function round(ctx: StackContext, apis: number, dispatchers: number, events: number): Promise<Round> {
  const stack = await startStack(ctx, `drill-multi-${apis}x${dispatchers}`, { apis, dispatchers });
  try {
    const merchant = await stack.api.createMerchant("Drill multi");
    const paths = Array.from({ length: endpoints }, (_, i) => `/drill/multi/${i}`);
    for (const path of paths) {
      await stack.api.createEndpoint(merchant, {
        url: `${ctx.receiver.url}${path}`,
        event_types: ["drill.multi"],
      });
    }
    const started = performance.now();
    const accepted = await emitMany(stack.clients, merchant, "drill.multi", events, 16);
    const expected = accepted.ids.length * endpoints;
    const waited = await waitForAllSucceeded(stack, expected, 120_000);
    const seconds = (performance.now() - started) / 1000;
    await sleep(300);
    const ledger = reconcile(accepted.ids, paths, await ctx.receiver.take());
    const { rows } = await stack.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM deliveries WHERE attempt_count > 1",
    );
    return {
      accepted: accepted.ids.length,
      emitRate: Math.round(accepted.ids.length / accepted.seconds),
      endToEndRate: Math.round(expected / seconds),
      delivered: ledger.delivered,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      attemptsBeyondOne: rows[0]!.n,
      settled: waited !== undefined,
      exits: unexpectedExits(stack),
    };
  } finally {
    await stack.stop();
  }
}

export async function multiProcess(ctx: StackContext, quick: boolean): Promise<DrillReport> {
  const events = quick ? 1000 : 5000;
  // One shape, the other, the first again: the neighbours' load on a shared machine drifts, and
  // the many-process round is held against the mean of the two single rounds around it.
  ctx.log(`multi-process: ${events} events to ${endpoints} endpoints, 1 API + 1 dispatcher`);
  const before = await round(ctx, 1, 1, events);
  ctx.log("multi-process: the same with 2 APIs + 3 dispatchers");
  const multi = await round(ctx, 2, 3, events);
  ctx.log("multi-process: 1 API + 1 dispatcher again");
  const after = await round(ctx, 1, 1, events);
  const rounds = [
    ["1+1", before],
    ["2+3", multi],
    ["1+1 again", after],
  ] as const;

  const failures: string[] = [];
  for (const [name, r] of rounds) {
    failures.push(...r.exits.map((exit) => `${name}: ${exit}`));
    if (r.lost > 0) failures.push(`${name}: ${r.lost} deliveries never arrived`);
    if (!r.settled) failures.push(`${name}: not every delivery succeeded within 120 s`);
    if (r.duplicates > 0) failures.push(`${name}: ${r.duplicates} attempts sent twice`);
    if (r.attemptsBeyondOne > 0)
      failures.push(`${name}: ${r.attemptsBeyondOne} deliveries attempted more than once`);
  }
  const singleRate = Math.round((before.endToEndRate + after.endToEndRate) / 2);
  if (multi.endToEndRate < (1 - allowedDrop) * singleRate)
    failures.push(`throughput fell: ${multi.endToEndRate}/s with 2+3 processes, ${singleRate}/s with 1+1`);
  const sum = (pick: (r: Round) => number) => rounds.reduce((total, [, r]) => total + pick(r), 0);
  return {
    drill: "multi-process",
    pass: failures.length === 0,
    figures: {
      accepted: sum((r) => r.accepted),
      delivered: sum((r) => r.delivered),
      lost: sum((r) => r.lost),
      duplicates: sum((r) => r.duplicates),
      "emit/s 1+1": Math.round((before.emitRate + after.emitRate) / 2),
      "emit/s 2+3": multi.emitRate,
      "deliveries/s 1+1": singleRate,
      "deliveries/s 2+3": multi.endToEndRate,
    },
    failures,
  };
}
