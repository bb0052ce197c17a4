import { randomBytes } from "node:crypto";
import { buildApp } from "@herald/api";
import { createLogger, loadConfig } from "@herald/config";
import { connect } from "@herald/db";
import { sql } from "kysely";
import { PgBoss } from "pg-boss";
import { describe, expect, it } from "vitest";
import { serveMetrics } from "../apps/herald/src/metrics-server.ts";
import { createEndpoint, createMerchant, eventually, useHerald } from "./support/fixture.ts";

/** The value of one sample in Prometheus text, 0 when the series is absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe("health, readiness and metrics of a running Herald", () => {
  const scene = useHerald({
    receiver: (request) => (request.path === "/down" ? { status: 500 } : { status: 200 }),
  });

  const metrics = async () => {
    const answer = await scene.herald.api("GET", "/metrics", undefined, { key: null });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return answer.body as string;
  };

  it("/healthz and /readyz answer without a key", async () => {
    const { herald } = scene;
    expect(await herald.api("GET", "/healthz", undefined, { key: null })).toMatchObject({
      status: 200,
      body: { status: "ok" },
    });
    expect(await herald.api("GET", "/readyz", undefined, { key: null })).toMatchObject({
      status: 200,
      body: { status: "ready" },
    });
  });

  it("/readyz answers 503 while a migration is not applied", async () => {
    const { herald } = scene;
    const { db } = herald.database;
    const name = "0002_recovery_operations.sql";
    const removed = await sql`DELETE FROM herald_migrations WHERE name = ${name}`.execute(db);
    expect(Number(removed.numAffectedRows)).toBe(1);
    try {
      expect(await herald.api("GET", "/readyz", undefined, { key: null })).toMatchObject({
        status: 503,
        body: { status: "migrations pending" },
      });
    } finally {
      await sql`INSERT INTO herald_migrations (name) VALUES (${name})`.execute(db);
    }
    expect((await herald.api("GET", "/readyz", undefined, { key: null })).status).toBe(200);
  });

  it("counters move with real deliveries; scrape-time gauges read the database, the queue and the pool", async () => {
    const { herald, receiver } = scene;
    const before = await metrics();
    const merchant = await createMerchant(herald);
    await createEndpoint(herald, merchant, { url: `${receiver.url}/up`, event_types: ["up.*"] });
    // Fails and waits an hour for its retry: one pending delivery, one deferred job.
    await createEndpoint(herald, merchant, {
      url: `${receiver.url}/down`,
      event_types: ["down.*"],
      retry_policy: { custom: [3600] },
    });
    for (const type of ["up.one", "up.two", "down.one"]) {
      await herald.api("POST", `/v1/merchants/${merchant}/events`, { type, mode: "test", data: {} });
    }
    await receiver.waitFor(3);

    const after = await eventually(async () => {
      const text = await metrics();
      return sample(text, 'herald_attempt_jobs{state="deferred"}') === 1 ? text : undefined;
    });
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('herald_attempts_total{outcome="success",status_class="2xx"}')).toBe(2);
    expect(delta('herald_attempts_total{outcome="failure",status_class="5xx"}')).toBe(1);
    expect(delta("herald_attempt_duration_seconds_count")).toBe(3);
    expect(delta("herald_scheduling_lag_seconds_count")).toBe(3);
    expect(delta("herald_events_emitted_total")).toBe(3);
    expect(sample(after, "herald_deliveries_pending")).toBe(1);
    expect(sample(after, 'herald_attempt_jobs{state="ready"}')).toBe(0);
    expect(sample(after, "herald_attempts_in_flight")).toBe(0);
    expect(sample(after, 'herald_pg_pool_connections{state="total"}')).toBeGreaterThan(0);
    expect(sample(after, 'herald_pg_pool_connections{state="idle"}')).toBeLessThanOrEqual(
      sample(after, 'herald_pg_pool_connections{state="total"}'),
    );
    expect(after).toMatch(/^herald_pg_pool_waiting \d+$/m);
  });
});

describe("an API whose database is unreachable", () => {
  it("is alive but not ready (503), and still serves its metrics", async () => {
    // Port 1 on loopback: nothing listens, so every connection is refused at once.
    const unreachable = "postgres://herald@127.0.0.1:1/herald";
    const connection = connect(unreachable, { max: 1 });
    const app = await buildApp(
      {
        config: loadConfig({ LOG_LEVEL: "silent" }),
        db: connection.db,
        hotDb: connection.db,
        pool: connection.pool,
        boss: new PgBoss(unreachable),
        allowedCidrs: [],
        encryptionKey: randomBytes(32),
        adminKey: "unused-admin-key-0123456789",
        announce: () => {},
      },
      createLogger("silent", "test"),
    );
    try {
      expect((await app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
      const ready = await app.inject({ url: "/readyz" });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: "database unreachable" });
      const metrics = await app.inject({ url: "/metrics" });
      expect(metrics.statusCode).toBe(200);
      // prom-client writes NaN as "Nan"; Prometheus reads either.
      expect(metrics.body).toMatch(/^herald_deliveries_pending NaN$/im);
      expect(metrics.body).toMatch(/^herald_attempt_jobs\{state="ready"\} NaN$/im);
    } finally {
      await app.close();
      await connection.close();
    }
  });

  it("a dispatcher-only process serves its counters and liveness on HERALD_METRICS_PORT", async () => {
    const server = await serveMetrics("127.0.0.1", 0);
    try {
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toMatch(/^# TYPE herald_attempts_total counter$/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: "ok" });
      expect((await fetch(`${server.url}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
