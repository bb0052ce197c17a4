import type { Config, Logger } from "@herald/config";
import {
  attemptOutcome,
  type Cidr,
  deliveryHeaders,
  newId,
  openSecret,
  type RetryPolicy,
  type SignatureScheme,
  scheduleOffsets,
} from "@herald/core";
import {
  type AttemptContext,
  type AttemptJobRecord,
  type AttemptRecord,
  abandonDeliveries,
  attemptContexts,
  attemptJob,
  attemptQueue,
  bossExecutor,
  bossNotifyChannelSql,
  type Db,
  recordAttempts,
} from "@herald/db";
import pg from "pg";
import type { JobInsert, PgBoss } from "pg-boss";
import { createGuardedAgent } from "./guarded-agent.ts";
import { metrics } from "./metrics.ts";
import { send } from "./send.ts";
import { Wakeup } from "./wakeup.ts";

export const userAgent = "Herald/0.1.0";

export interface DispatcherDeps {
  config: Config;
  db: Db;
  boss: PgBoss;
  databaseUrl: string;
  allowedCidrs: Cidr[];
  encryptionKey: Buffer;
  log: Logger;
}

export interface Dispatcher {
  /** Stops taking work, lets attempts in flight finish (up to `drainMs`), records them, and returns. */
  stop(drainMs?: number): Promise<void>;
}

/** A finished attempt (or a job that needed none) waiting to be written. */
interface Finished {
  job: AttemptJobRecord;
  record?: AttemptRecord;
  next?: JobInsert;
  abandon?: string;
}

// Idle dispatchers look for due work this often; new work and local retries wake them sooner.
const idlePollMs = 250;
const fetchBatch = 100;
const flushEveryMs = 5;

/**
 * The delivery loop: take due attempts → sign → POST → record → schedule the next or finish.
 * Attempts run concurrently (up to `dispatcherConcurrency` per process, `endpointConcurrency` per
 * endpoint across all processes, enforced by pg-boss groups). No transaction is open during a POST:
 * results are written afterwards, in small batches, together with the jobs they complete and create.
 */
export async function startDispatcher(deps: DispatcherDeps): Promise<Dispatcher> {
  const { config, db, boss, log } = deps;
  const agent = createGuardedAgent({ allowed: deps.allowedCidrs, connections: 64, keepAliveTimeout: 10_000 });
  const wakeup = new Wakeup();
  const listener = await listenForNewJobs(deps.databaseUrl, wakeup, log);
  const inFlight = new Set<Promise<void>>();
  const finished: Finished[] = [];
  const secrets = new SecretCache(deps.encryptionKey);
  const scale = config.retryTimeScale;
  let running = true;
  let flushing: Promise<void> = Promise.resolve();

  async function takeDueAttempts(room: number): Promise<[AttemptJobRecord, AttemptContext | undefined][]> {
    const jobs = (await boss.fetch(attemptQueue, {
      batchSize: Math.min(room, fetchBatch),
      groupConcurrency: config.endpointConcurrency,
    })) as AttemptJobRecord[];
    if (jobs.length === 0) return [];
    const contexts = await attemptContexts(db, [...new Set(jobs.map((j) => j.data.delivery_id))]);
    const byId = new Map(contexts.map((c) => [c.id, c]));
    return jobs.map((job) => [job, byId.get(job.data.delivery_id)]);
  }

  async function attempt(job: AttemptJobRecord, delivery: AttemptContext | undefined): Promise<Finished> {
    const trigger = job.data.trigger;
    // Retention removed it, or it was settled meanwhile: nothing to send.
    if (!delivery || (trigger === "scheduled" && delivery.status !== "pending")) return { job };
    if (delivery.deleted_at || (!delivery.enabled && trigger !== "test")) {
      return { job, abandon: trigger === "scheduled" ? delivery.id : undefined };
    }
    const scheduledAt = new Date(job.data.scheduled_at);
    const now = new Date();
    metrics.schedulingLag.observe(Math.max(0, now.getTime() - scheduledAt.getTime()) / 1000);
    const headers = deliveryHeaders({
      scheme: delivery.signature_scheme as SignatureScheme,
      secrets: secrets.open(delivery, now),
      id: delivery.event_id,
      timestamp: Math.floor(now.getTime() / 1000),
      body: delivery.body,
      hexHeader: config.signatureHeader,
      userAgent,
      custom: delivery.headers,
    });
    const sent = await send(agent, {
      url: delivery.url,
      headers,
      body: delivery.body,
      timeoutMs: delivery.timeout_ms,
    });
    const outcome = attemptOutcome({
      trigger,
      status: sent.error === "redirect" ? null : sent.status,
      retryAfterHeader: sent.headers?.["retry-after"],
      successRule: config.successStatus,
      offsets: scheduleOffsets(delivery.retry_policy as RetryPolicy, delivery.id).map((ms) =>
        Math.round(ms * scale),
      ),
      anchor: delivery.created_at,
      scheduledAt,
      now: new Date(),
    });
    metrics.attempts.inc({
      outcome: outcome.succeeded ? "success" : (sent.error ?? "failure"),
      status_class: statusClass(sent.status),
    });
    metrics.attemptDuration.observe(sent.durationMs / 1000);
    const next = outcome.nextAttemptAt;
    if (next) wakeup.at(next);
    log.debug(
      { delivery_id: delivery.id, status: sent.status, error: sent.error, next_attempt_at: next },
      "attempt",
    );
    return {
      job,
      record: {
        id: newId("attempt", sent.startedAt.getTime()),
        delivery_id: delivery.id,
        endpoint_id: delivery.endpoint_id,
        trigger,
        scheduled_at: scheduledAt,
        started_at: sent.startedAt,
        duration_ms: sent.durationMs,
        request_url: delivery.url,
        request_headers: headers,
        response_status: sent.status,
        response_headers: sent.headers,
        response_body: sent.body,
        error: sent.error ?? (outcome.succeeded ? null : "http_status"),
        error_detail: sent.errorDetail,
        status: outcome.status,
        next_attempt_at: next,
        succeeded: outcome.succeeded,
        disable_reason: outcome.disableReason,
      },
      next: next
        ? attemptJob(
            {
              delivery_id: delivery.id,
              trigger: "scheduled",
              scheduled_at: next.toISOString(),
              endpoint_id: delivery.endpoint_id,
              timeout_ms: delivery.timeout_ms,
            },
            next,
          )
        : undefined,
    };
  }

  /** Writes finished attempts: attempt rows, delivery state, next jobs, completed jobs, in one transaction. */
  async function record(batch: Finished[]): Promise<void> {
    const records = batch.flatMap((f) => (f.record ? [f.record] : []));
    const next = batch.flatMap((f) => (f.next ? [f.next] : []));
    const abandoned = batch.flatMap((f) => (f.abandon ? [f.abandon] : []));
    await db.transaction().execute(async (trx) => {
      if (records.length > 0) {
        const disabled = await recordAttempts(trx, records, config.disableAfterHours * 3_600_000 * scale);
        if (disabled.length > 0) log.info({ endpoint_ids: disabled }, "endpoints disabled");
      }
      if (abandoned.length > 0) await abandonDeliveries(trx, abandoned, "endpoint disabled or deleted");
      if (next.length > 0) await boss.insert(attemptQueue, next, { db: bossExecutor(trx) });
      await boss.complete(
        attemptQueue,
        batch.map((f) => ({ id: f.job.id, retryCount: f.job.retryCount })),
        null,
        { db: bossExecutor(trx) },
      );
    });
  }

  function flushSoon(): void {
    flushing = flushing.then(async () => {
      await sleep(flushEveryMs);
      while (finished.length > 0) {
        const batch = finished.splice(0, 200);
        try {
          await record(batch);
        } catch (error) {
          // Postgres is away: keep the results and try again; jobs not completed are re-run later.
          log.warn({ err: error }, "recording attempts failed; retrying");
          finished.unshift(...batch);
          await sleep(1000);
          if (!running && finished.length > 0) continue;
        }
      }
    });
  }

  async function loop(): Promise<void> {
    while (running) {
      const room = config.dispatcherConcurrency - inFlight.size;
      if (room <= 0) {
        await Promise.race(inFlight);
        continue;
      }
      let due: [AttemptJobRecord, AttemptContext | undefined][];
      try {
        due = await takeDueAttempts(room);
      } catch (error) {
        log.warn({ err: error }, "fetching attempts failed; retrying");
        await sleep(1000);
        continue;
      }
      if (due.length === 0) {
        await wakeup.wait(idlePollMs);
        continue;
      }
      for (const [job, delivery] of due) {
        const task = attempt(job, delivery)
          .catch((error): Finished => {
            log.error({ err: error, delivery_id: job.data.delivery_id }, "attempt crashed");
            return { job };
          })
          .then((done) => {
            finished.push(done);
            if (finished.length === 1) flushSoon();
          })
          .finally(() => {
            inFlight.delete(task);
            metrics.inFlight.set(inFlight.size);
          });
        inFlight.add(task);
      }
      metrics.inFlight.set(inFlight.size);
    }
  }

  const looping = loop();
  log.info(
    { concurrency: config.dispatcherConcurrency, endpoint_concurrency: config.endpointConcurrency },
    "dispatcher started",
  );

  return {
    async stop(drainMs = 20_000) {
      running = false;
      wakeup.wake();
      await looping;
      await Promise.race([Promise.all(inFlight), sleep(drainMs)]);
      flushSoon();
      await flushing;
      await listener.end().catch(() => {});
      await agent.close().catch(() => {});
    },
  };
}

/** LISTENs where pg-boss announces runnable jobs, so a new event is sent at once, not at the next poll. */
async function listenForNewJobs(url: string, wakeup: Wakeup, log: Logger): Promise<{ end(): Promise<void> }> {
  let client: pg.Client | undefined;
  let ended = false;
  const connectListener = async (): Promise<void> => {
    if (ended) return;
    try {
      const next = new pg.Client({ connectionString: url, application_name: "herald-dispatcher-listen" });
      next.on("notification", () => wakeup.wake());
      next.on("error", () => {
        next.end().catch(() => {});
        if (!ended) setTimeout(connectListener, 1000);
      });
      await next.connect();
      const { rows } = await next.query<{ channel: string }>(bossNotifyChannelSql);
      await next.query(`LISTEN "${rows[0]!.channel}"`);
      client = next;
      wakeup.wake();
    } catch (error) {
      log.warn({ err: error }, "LISTEN failed; polling until it comes back");
      if (!ended) setTimeout(connectListener, 1000);
    }
  };
  await connectListener();
  return {
    end: async () => {
      ended = true;
      await client?.end();
    },
  };
}

/** Decrypted secrets per endpoint version, so a busy endpoint is not decrypted on every attempt. */
class SecretCache {
  readonly #key: Buffer;
  readonly #cache = new Map<string, { version: number; secrets: { plain: string; expires: number }[] }>();

  constructor(key: Buffer) {
    this.#key = key;
  }

  open(endpoint: AttemptContext, now: Date): string[] {
    const version = endpoint.endpoint_updated_at.getTime();
    let entry = this.#cache.get(endpoint.endpoint_id);
    if (!entry || entry.version !== version) {
      if (this.#cache.size > 10_000) this.#cache.clear();
      entry = {
        version,
        secrets: endpoint.secrets.map((s) => ({
          plain: openSecret(this.#key, s.secret),
          expires: s.expires_at ? Date.parse(s.expires_at) : Number.POSITIVE_INFINITY,
        })),
      };
      this.#cache.set(endpoint.endpoint_id, entry);
    }
    return entry.secrets.filter((s) => s.expires > now.getTime()).map((s) => s.plain);
  }
}

function statusClass(status: number | null): string {
  return status === null ? "none" : `${Math.floor(status / 100)}xx`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
