import { attemptQueue, countPendingDeliveries, migrationsApplied } from "@herald/db";
import { Gauge, Registry, register } from "prom-client";
import { Type } from "typebox";
import type { HeraldApp, HeraldContext } from "../app.ts";
import { OneOf } from "../schemas.ts";

const Health = Type.Object({ status: Type.String() });

/** Liveness, readiness and metrics, for the orchestrator and Prometheus: no key needed. */
export async function healthRoutes(app: HeraldApp) {
  const { pool } = app.herald;
  const scraped = scrapeTimeMetrics(app.herald);

  app.get(
    "/healthz",
    {
      schema: {
        tags: ["operations"],
        summary: "The process is alive",
        response: { 200: Health },
      },
    },
    async () => ({ status: "ok" }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["operations"],
        summary: "The database is reachable and migrated",
        description:
          "503 while the database is unreachable or migrations are pending: take the process out of rotation.",
        response: {
          200: Health,
          503: Type.Object({ status: OneOf(["database unreachable", "migrations pending"]) }),
        },
      },
    },
    async (_request, reply) => {
      try {
        if (!(await migrationsApplied(pool))) return reply.code(503).send({ status: "migrations pending" });
        return { status: "ready" };
      } catch {
        return reply.code(503).send({ status: "database unreachable" });
      }
    },
  );

  app.get(
    "/metrics",
    {
      schema: {
        tags: ["operations"],
        summary: "Prometheus metrics",
        description:
          "Text exposition format. This process's counters (attempts by outcome and status class, attempt duration, scheduling lag, " +
          "attempts in flight, events emitted) and, read at scrape time, pending deliveries, the attempt queue by state and the " +
          "Postgres pool.",
        response: {
          200: {
            description: "Prometheus text format",
            content: { "text/plain": { schema: Type.String() } },
          },
        },
      },
    },
    async (_request, reply) => {
      const [counters, current] = await Promise.all([register.metrics(), scraped.metrics()]);
      return reply.type(register.contentType).send(`${counters}\n${current}`);
    },
  );
}

/**
 * Gauges read when Prometheus scrapes, on a registry of this app's own (the counters live on the
 * process-wide default one). A reading the database cannot give is NaN, not a stale number.
 */
function scrapeTimeMetrics({ db, pool, boss }: HeraldContext): Registry {
  const registry = new Registry();
  new Gauge({
    name: "herald_deliveries_pending",
    help: "Deliveries not settled yet: due, waiting for a retry, or in flight",
    registers: [registry],
    async collect() {
      this.set(await countPendingDeliveries(db).catch(() => Number.NaN));
    },
  });
  new Gauge({
    name: "herald_attempt_jobs",
    help: "Attempt jobs by state: ready (due now), deferred (scheduled later), active (in flight); as of the queue monitor's last pass, a few seconds old",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const queue = await boss.getQueue(attemptQueue).catch(() => null);
      this.set({ state: "ready" }, queue?.readyCount ?? Number.NaN);
      this.set({ state: "deferred" }, queue?.deferredCount ?? Number.NaN);
      this.set({ state: "active" }, queue?.activeCount ?? Number.NaN);
    },
  });
  new Gauge({
    name: "herald_pg_pool_connections",
    help: "This process's Postgres pool: open connections (total) and those idle",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      this.set({ state: "total" }, pool.totalCount);
      this.set({ state: "idle" }, pool.idleCount);
    },
  });
  new Gauge({
    name: "herald_pg_pool_waiting",
    help: "Queries of this process waiting for a free Postgres connection",
    registers: [registry],
    collect() {
      this.set(pool.waitingCount);
    },
  });
  return registry;
}
