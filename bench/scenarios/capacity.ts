// The whole stack against what a Node team would build instead (bench/peers/): Herald, a BullMQ +
// Redis sender and a bare pg-boss worker, each with its API, its worker, Postgres (and Redis), the
// receiver and the load generator on this one machine, one after the other.
//
// - Sustained capacity: single emits at a fixed rate (open loop), stepped up; a step holds when
//   every event is accepted and delivered and the p99 from emit sent to arrival is ≤ 1 s. The row
//   is the highest rate that held.
// - Burst: N events emitted as fast as the API takes them (64 concurrent); time until the last
//   arrives.
// - CPU per delivered event, all processes, over the burst.
// - Backlog drain: events emitted while nothing delivers, then the worker (dispatcher) started;
//   deliveries per second over the middle 80 % of arrivals.
import { cpuBetween, readCpu } from "../cpu.ts";
import { fixedRate, percentile, preciseNow, sleep } from "../load.ts";
import {
  endpointCount,
  heraldSystem,
  peerSystem,
  redisInstalled,
  type System,
  type SystemName,
} from "../peers/systems.ts";
import { type Result, result, round } from "../results.ts";
import type { BenchContext } from "../stack.ts";

interface Step {
  rate: number;
  accepted: number;
  failed: number;
  lost: number;
  p50_ms: number;
  p99_ms: number;
  held: boolean;
}

interface Measured {
  capacity: number;
  steps: Step[];
  cpuAtCapacity: Record<string, number> | undefined;
  burstSeconds: number;
  burstDelivered: number;
  burstCpu: Record<string, number>;
  drainRate: number;
}

const p99LimitMs = 1000;

export async function capacityScenarios(ctx: BenchContext): Promise<Result[]> {
  const names: SystemName[] = ["herald", "pgboss"];
  if (redisInstalled()) names.splice(1, 0, "bullmq");
  else
    ctx.log(
      "capacity: redis-server is not installed, skipping the BullMQ + Redis arm (Debian: apt-get install -y redis-server)",
    );
  const measured = new Map<SystemName, Measured>();
  for (const name of names) {
    const path = `/capacity/${name}`;
    const system = name === "herald" ? await heraldSystem(ctx, path) : await peerSystem(ctx, name, path);
    try {
      measured.set(name, await measure(ctx, system));
    } finally {
      await system.stop();
    }
  }
  return rows(ctx, measured);
}

async function measure(ctx: BenchContext, system: System): Promise<Measured> {
  const { sizes } = ctx;
  let n = 0;
  ctx.log(`capacity ${system.name}: warm-up`);
  await runStep(ctx, system, 100, 1000, () => n++);

  const steps: Step[] = [];
  let cpuAtCapacity: Record<string, number> | undefined;
  for (const rate of sizes.capacitySteps) {
    ctx.log(`capacity ${system.name}: ${rate} events/s for ${sizes.capacityStepSeconds} s`);
    const before = readCpu(system.cpu);
    let step = await runStep(ctx, system, rate, sizes.capacityStepSeconds * 1000, () => n++);
    // Once more before giving up: on a shared machine one neighbour's burst can sink a step.
    if (!step.held) {
      ctx.log(
        `capacity ${system.name}: ${rate}/s missed (p99 ${step.p99_ms} ms, ${step.lost} lost), once more`,
      );
      await sleep(1000);
      step = await runStep(ctx, system, rate, sizes.capacityStepSeconds * 1000, () => n++);
    }
    const cpu = cpuBetween(before, readCpu(system.cpu), step.accepted - step.lost);
    steps.push(step);
    ctx.log(
      `capacity ${system.name}: ${rate}/s: p99 ${step.p99_ms} ms, ${step.lost} lost, ${step.failed} refused: ${step.held ? "held" : "missed"}`,
    );
    if (!step.held) break;
    cpuAtCapacity = cpu;
    await sleep(500);
  }
  const capacity = Math.max(0, ...steps.filter((s) => s.held).map((s) => s.rate));

  ctx.log(`burst ${system.name}: ${sizes.burstEvents} events as fast as the API takes them`);
  await ctx.receiver.reset();
  const before = readCpu(system.cpu);
  const started = preciseNow();
  let next = 0;
  let accepted = 0;
  const worker = async () => {
    while (next < sizes.burstEvents) {
      next++;
      if ((await system.emit(n++).catch(() => ({ id: undefined }))).id) accepted++;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  await ctx.receiver.waitForCount(accepted, 60_000 + sizes.burstEvents * 5);
  const arrivals = await ctx.receiver.take();
  const last = Math.max(...arrivals.map((a) => a.at));
  const delivered = new Set(arrivals.map((a) => a.id)).size;
  const burstCpu = cpuBetween(before, readCpu(system.cpu), delivered);

  ctx.log(
    `drain ${system.name}: ${sizes.deliveriesPerRun} events emitted with nothing delivering, then drained`,
  );
  await system.stopWorker();
  await ctx.receiver.reset();
  const backlog = sizes.deliveriesPerRun;
  next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < backlog) {
        next++;
        await system.emit(n++);
      }
    }),
  );
  await system.startWorker();
  await ctx.receiver.waitForCount(backlog, 60_000 + backlog * 10);
  const times = (await ctx.receiver.take()).map((a) => a.at).sort((a, b) => a - b);
  const from = times[Math.floor(times.length * 0.1)]!;
  const to = times[Math.floor(times.length * 0.9)]!;
  return {
    capacity,
    steps,
    cpuAtCapacity,
    burstSeconds: round((last - started) / 1000, 2),
    burstDelivered: delivered,
    burstCpu,
    drainRate: Math.round((times.length * 0.8 * 1000) / (to - from)),
  };
}

/** One step: `rate` emits/s for `ms`, then up to 10 s for the stragglers. */
async function runStep(
  ctx: BenchContext,
  system: System,
  rate: number,
  ms: number,
  next: () => number,
): Promise<Step> {
  await ctx.receiver.reset();
  const sentAt = new Map<string, number>();
  const run = await fixedRate(
    async () => {
      const emitted = await system.emit(next());
      if (emitted.id) sentAt.set(emitted.id, emitted.sentAt);
      return emitted.id !== undefined;
    },
    rate,
    ms,
  );
  await ctx.receiver.waitForCount(sentAt.size, 10_000);
  const firstArrival = new Map<string, number>();
  for (const a of await ctx.receiver.take()) {
    if (!firstArrival.has(a.id)) firstArrival.set(a.id, a.at);
  }
  const latencies = [...sentAt].flatMap(([id, sent]) => {
    const at = firstArrival.get(id);
    return at === undefined ? [] : [at - sent];
  });
  const lost = sentAt.size - latencies.length;
  const p99 = percentile(latencies, 99);
  return {
    rate,
    accepted: sentAt.size,
    failed: run.failed,
    lost,
    p50_ms: round(percentile(latencies, 50), 1),
    p99_ms: round(p99, 1),
    held: run.failed === 0 && lost === 0 && p99 <= p99LimitMs,
  };
}

const total = (cpu: Record<string, number> | undefined) =>
  cpu
    ? round(
        Object.values(cpu).reduce((sum, ms) => sum + ms, 0),
        3,
      )
    : Number.NaN;

function rows(ctx: BenchContext, measured: Map<SystemName, Measured>): Result[] {
  const herald = measured.get("herald")!;
  const peers = [...measured].filter(([name]) => name !== "herald");
  const out: Result[] = [];
  const peerRow = (name: SystemName, m: Measured) => {
    const label = name === "bullmq" ? "BullMQ + Redis" : "bare pg-boss";
    return [
      result(`peer-${name}-capacity`, m.capacity, "events/s", {
        params: { peer: label, steps: m.steps, cpu_ms_per_event_at_capacity: m.cpuAtCapacity },
      }),
      result(`peer-${name}-burst`, m.burstSeconds, "s", {
        params: {
          peer: label,
          events: ctx.sizes.burstEvents,
          delivered: m.burstDelivered,
          events_per_s: round(m.burstDelivered / m.burstSeconds),
        },
      }),
      result(`peer-${name}-cpu-per-event`, total(m.burstCpu), "ms", {
        params: { peer: label, parts: m.burstCpu },
      }),
      result(`peer-${name}-drain`, m.drainRate, "deliveries/s", {
        params: { peer: label, backlog: ctx.sizes.deliveriesPerRun, measured: "middle 80 % of arrivals" },
      }),
    ];
  };
  const rowsOf = new Map(peers.map(([name, m]) => [name, peerRow(name, m)]));
  for (const list of rowsOf.values()) out.push(...list);
  const bullmq = rowsOf.get("bullmq");
  const ratios = (pick: (m: Measured) => number, heraldValue: number) =>
    Object.fromEntries(
      peers.map(([name, m]) => [name, { value: pick(m), herald_ratio: round(heraldValue / pick(m), 3) }]),
    );

  const capacity = result("sustained-capacity", herald.capacity, "events/s", {
    baseline: bullmq?.[0],
    target: { text: "≥ 2,000 events/s and ≥ 1.5 × BullMQ", on: "value", min: 2000 },
    params: {
      steps: herald.steps,
      step_seconds: ctx.sizes.capacityStepSeconds,
      holds_when: `every event accepted and delivered, p99 emit sent → arrival ≤ ${p99LimitMs} ms`,
      cpu_ms_per_event_at_capacity: herald.cpuAtCapacity,
      peers: ratios((m) => m.capacity, herald.capacity),
      order: "one system after the other on the same Postgres server and receiver",
    },
  });
  if (capacity.pass && capacity.ratio !== null) capacity.pass = capacity.ratio >= 1.5;
  out.push(capacity);
  out.push(
    result("burst-drain", herald.burstSeconds, "s", {
      baseline: bullmq?.[1],
      params: {
        events: ctx.sizes.burstEvents,
        delivered: herald.burstDelivered,
        events_per_s: round(herald.burstDelivered / herald.burstSeconds),
        concurrency: 64,
        measured: "first emit sent → last arrival",
        peers: ratios((m) => m.burstSeconds, herald.burstSeconds),
      },
    }),
  );
  const drain = result("backlog-drain", herald.drainRate, "deliveries/s", {
    baseline: bullmq?.[3],
    target: { text: "≥ 1.5 × BullMQ and ≥ 1.0 × bare pg-boss", on: "ratio", min: 1.5 },
    params: {
      backlog: ctx.sizes.deliveriesPerRun,
      endpoints: endpointCount,
      measured: "middle 80 % of arrivals, one dispatcher started on the backlog",
      peers: ratios((m) => m.drainRate, herald.drainRate),
    },
  });
  const pgboss = measured.get("pgboss");
  if (drain.pass && pgboss) drain.pass = herald.drainRate >= pgboss.drainRate;
  out.push(drain);
  out.push(
    result("cpu-per-delivered-event", total(herald.burstCpu), "ms", {
      baseline: bullmq?.[2],
      target: { text: "≤ 1.0 ms", on: "value", max: 1.0 },
      params: {
        parts: herald.burstCpu,
        during: "the burst, all processes",
        peers: ratios((m) => total(m.burstCpu), total(herald.burstCpu)),
      },
    }),
  );
  return out;
}
