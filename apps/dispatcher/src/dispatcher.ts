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
  attemptsChannel,
  bossExecutor,
  type Db,
  type RecordedAttempts,
  recordAttempts,
} from "@herald/db";
import pg from "pg";
import type { JobInsert, PgBoss } from "pg-boss";
import { createGuardedAgent } from "./guarded-agent.ts";
import { claimOf, Leases } from "./leases.ts";
import { metrics } from "./metrics.ts";
import { isRelayUrl, relay } from "./relay.ts";
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
  /**
   * Stops taking work and lets attempts in flight finish and be recorded, for up to `drainMs`.
   * Attempts still running then are cut short and handed back to the queue, so another dispatcher
   * re-runs them at once.
   */
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
const recordBatch = 200;
const flushEveryMs = 5;
// Waits after a failed fetch or write (Postgres away), doubling up to the last.
const backoffMs = { first: 250, max: 5000 };
const defaultDrainMs = 10_000;
// Once the drain is over, how long the last results may take to reach a database that is away.
const finalFlushMs = 5000;

/**
 * The delivery loop: take due attempts → sign → POST → record → schedule the next or finish.
 * Attempts run concurrently (up to `dispatcherConcurrency` per process, `endpointConcurrency` per
 * endpoint across all processes, enforced by pg-boss groups). No transaction is open during a POST:
 * results are written afterwards, in small batches, together with the jobs they complete and create.
 * Every job taken is held under a lease (see `Leases`) until its result is written, so a dispatcher
 * that dies mid-attempt loses nothing: its jobs come back to the queue when their leases lapse.
 */
export async function startDispatcher(deps: DispatcherDeps): Promise<Dispatcher> {
  const { config, db, boss, log } = deps;
  const agent = createGuardedAgent({ allowed: deps.allowedCidrs, connections: 64, keepAliveTimeout: 10_000 });
  const wakeup = new Wakeup();
  const listener = await listenForNewJobs(deps.databaseUrl, wakeup, log);
  const leases = new Leases(boss, log);
  const secrets = new SecretCache(deps.encryptionKey);
  const scale = config.retryTimeScale;
  const failureWindow = { hours: config.disableAfterHours, ms: config.disableAfterHours * 3_600_000 * scale };
  const inFlight = new Map<string, Promise<void>>();
  const unrecorded: Finished[] = [];
  // Cuts attempts short once a shutdown's drain time is over; their jobs have been handed back.
  const cutShort = new AbortController();
  let running = true;
  let flushing: Promise<void> | undefined;
  let recordUntil = Number.POSITIVE_INFINITY;
  const stopped = Promise.withResolvers<void>();

  async function takeDueAttempts(room: number): Promise<[AttemptJobRecord, AttemptContext | undefined][]> {
    const jobs = (await boss.fetch(attemptQueue, {
      batchSize: Math.min(room, fetchBatch),
      groupConcurrency: config.endpointConcurrency,
    })) as AttemptJobRecord[];
    if (jobs.length === 0) return [];
    let contexts: AttemptContext[];
    try {
      contexts = await attemptContexts(db, [...new Set(jobs.map((j) => j.data.delivery_id))]);
    } catch (error) {
      await leases.handBack(jobs).catch(() => {});
      throw error;
    }
    const byId = new Map(contexts.map((c) => [c.id, c]));
    return jobs.map((job) => [job, byId.get(job.data.delivery_id)]);
  }

  async function attempt(job: AttemptJobRecord, delivery: AttemptContext | undefined): Promise<Finished> {
    const trigger = job.data.trigger;
    // Retention removed it, or it was settled meanwhile: nothing to send.
    if (!delivery || (trigger === "scheduled" && delivery.status !== "pending")) return { job };
    // A manual retry of a disabled or deleted endpoint sends nothing and changes nothing; a test
    // send may probe a disabled endpoint; otherwise the delivery can never be sent and ends here.
    const unreachable = delivery.deleted_at !== null || (!delivery.enabled && trigger === "scheduled");
    if (unreachable || (!delivery.enabled && trigger === "manual")) {
      return trigger === "manual" ? { job } : { job, abandon: delivery.id };
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
    const target = {
      url: delivery.url,
      headers,
      body: delivery.body,
      timeoutMs: delivery.timeout_ms,
      abort: cutShort.signal,
    };
    const sent = isRelayUrl(delivery.url)
      ? await relay(db, { ...target, endpointId: delivery.endpoint_id, deliveryId: delivery.id })
      : await send(agent, target);
    const outcome = attemptOutcome({
      trigger,
      // A response cut short (timeout, reset) or a redirect is judged as no response at all.
      status: sent.error ? null : sent.status,
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
            delivery.id,
            { id: delivery.endpoint_id, timeout_ms: delivery.timeout_ms },
            "scheduled",
            next,
          )
        : undefined,
    };
  }

  /**
   * Writes finished attempts in one transaction: completes their jobs, stores the attempt rows and
   * delivery state, creates the next jobs. A job whose lease lapsed meanwhile belongs to whichever
   * dispatcher re-runs it: its attempt is still recorded (it was sent), but only a success changes
   * the delivery, and the next attempt is left to the re-run, so a schedule never forks in two.
   */
  async function record(batch: Finished[]): Promise<{ recorded: RecordedAttempts; lapsed: Finished[] }> {
    return db.transaction().execute(async (trx) => {
      const completed = await boss.complete(
        attemptQueue,
        batch.map((f) => ({ id: f.job.id, retryCount: f.job.retryCount })),
        null,
        { db: bossExecutor(trx) },
      );
      const settled = new Set(settledIds(completed) ?? batch.map((f) => f.job.id));
      const lapsed = batch.filter((f) => !settled.has(f.job.id));
      const records = batch.flatMap((f) => {
        if (!f.record) return [];
        if (settled.has(f.job.id) || f.record.succeeded) return [f.record];
        return [{ ...f.record, status: null, next_attempt_at: null }];
      });
      const next = batch.flatMap((f) => (f.next && settled.has(f.job.id) ? [f.next] : []));
      const abandoned = batch.flatMap((f) => (f.abandon ? [f.abandon] : []));
      const recorded =
        records.length > 0
          ? await recordAttempts(trx, records, failureWindow)
          : { numbers: new Map(), disabled: [] };
      if (abandoned.length > 0) await abandonDeliveries(trx, abandoned, "endpoint disabled or deleted");
      if (next.length > 0) await boss.insert(attemptQueue, next, { db: bossExecutor(trx) });
      return { recorded, lapsed };
    });
  }

  function logRecorded(batch: Finished[], { recorded, lapsed }: Awaited<ReturnType<typeof record>>): void {
    for (const { record } of batch) {
      if (!record) continue;
      const fields = {
        delivery_id: record.delivery_id,
        attempt: recorded.numbers.get(record.id),
        attempt_id: record.id,
        trigger: record.trigger,
        response_status: record.response_status,
        error: record.error,
        duration_ms: record.duration_ms,
        next_attempt_at: record.next_attempt_at,
      };
      if (record.status === "failed" && record.trigger === "scheduled") log.info(fields, "delivery failed");
      else log.debug(fields, "attempt recorded");
    }
    for (const { job, record } of lapsed) {
      log.warn(
        {
          delivery_id: job.data.delivery_id,
          attempt: record && recorded.numbers.get(record.id),
          job_id: job.id,
        },
        "attempt finished after its lease lapsed; recorded, next attempt left to the re-run",
      );
    }
    for (const disabled of recorded.disabled) log.warn(disabled, "endpoint disabled");
  }

  /** Writes `unrecorded` in batches until it is empty, waiting out a database that is away. */
  async function flush(): Promise<void> {
    await sleep(flushEveryMs);
    let wait = backoffMs.first;
    while (unrecorded.length > 0) {
      const batch = unrecorded.splice(0, recordBatch);
      try {
        logRecorded(batch, await record(batch));
        leases.release(batch.map((f) => f.job));
        // Completed jobs free their endpoints' in-flight slots: jobs held back by that limit are
        // runnable now, and pg-boss announces nothing for them.
        wakeup.wake();
        wait = backoffMs.first;
      } catch (error) {
        if (Date.now() > recordUntil) {
          // Their leases lapse once this process is gone, and other dispatchers re-run them.
          log.warn(
            { err: error, attempts: batch.length + unrecorded.length },
            "giving up recording at shutdown",
          );
          unrecorded.length = 0;
          return;
        }
        log.warn(
          { err: error, attempts: batch.length, retry_in_ms: wait },
          "recording attempts failed; retrying",
        );
        unrecorded.unshift(...batch);
        await sleep(wait);
        wait = Math.min(wait * 2, backoffMs.max);
      }
    }
  }

  function flushSoon(): void {
    if (flushing) return;
    flushing = flush().finally(() => {
      flushing = undefined;
      if (unrecorded.length > 0) flushSoon();
    });
  }

  function start(job: AttemptJobRecord, delivery: AttemptContext | undefined): void {
    leases.hold(job);
    const task = attempt(job, delivery)
      .then(
        (done) => {
          if (!leases.holds(job)) return;
          unrecorded.push(done);
          flushSoon();
        },
        (error: unknown) => {
          // Not completed: the job comes back when its lease lapses, and is tried again.
          log.error({ err: error, delivery_id: job.data.delivery_id }, "attempt crashed");
          leases.release([job]);
        },
      )
      .finally(() => {
        inFlight.delete(claimOf(job));
        metrics.inFlight.set(inFlight.size);
      });
    inFlight.set(claimOf(job), task);
  }

  async function loop(): Promise<void> {
    let wait = 0;
    while (running) {
      // Attempts waiting to be recorded count too: a slow database holds the loop back.
      const room = config.dispatcherConcurrency - leases.count;
      if (room <= 0) {
        // Woken when a recorded batch frees room.
        await wakeup.wait(idlePollMs);
        continue;
      }
      let due: [AttemptJobRecord, AttemptContext | undefined][];
      try {
        due = await takeDueAttempts(room);
        wait = 0;
      } catch (error) {
        wait = Math.min(Math.max(wait * 2, backoffMs.first), backoffMs.max);
        log.warn({ err: error, retry_in_ms: wait }, "fetching attempts failed; retrying");
        await Promise.race([sleep(wait), stopped.promise]);
        continue;
      }
      if (due.length === 0) {
        await wakeup.wait(idlePollMs);
        continue;
      }
      for (const [job, delivery] of due) start(job, delivery);
      metrics.inFlight.set(inFlight.size);
    }
  }

  const looping = loop();
  log.info(
    { concurrency: config.dispatcherConcurrency, endpoint_concurrency: config.endpointConcurrency },
    "dispatcher started",
  );

  return {
    async stop(drainMs = defaultDrainMs) {
      running = false;
      stopped.resolve();
      wakeup.wake();
      await looping;
      const drained = await Promise.race([
        Promise.all(inFlight.values()).then(() => true),
        sleep(drainMs).then(() => false),
      ]);
      if (!drained) {
        const unfinished = leases.held().filter((job) => inFlight.has(claimOf(job)));
        log.warn({ attempts: unfinished.length }, "drain time over; handing unfinished attempts back");
        leases.release(unfinished);
        cutShort.abort();
        await leases.handBack(unfinished).catch((error: unknown) => {
          log.warn({ err: error }, "could not hand attempts back; they are re-run when their leases lapse");
        });
      }
      recordUntil = Date.now() + finalFlushMs;
      flushSoon();
      while (flushing) await flushing;
      leases.stop();
      await listener.end().catch(() => {});
      await agent.destroy().catch(() => {});
      log.info("dispatcher stopped");
    },
  };
}

/** The job ids a settle statement reports it touched (pg-boss answers them beside the count). */
function settledIds(response: object): string[] | undefined {
  const ids = (response as { settled?: unknown }).settled;
  return Array.isArray(ids) ? ids.map(String) : undefined;
}

/**
 * LISTENs where the API announces runnable jobs, so a new event is sent at once, not at the next
 * poll. The connection comes back by itself after Postgres restarts; until then the loop polls.
 */
async function listenForNewJobs(url: string, wakeup: Wakeup, log: Logger): Promise<{ end(): Promise<void> }> {
  let client: pg.Client | undefined;
  let ended = false;
  let retry: NodeJS.Timeout | undefined;
  // Said once per outage, not on every reconnection attempt.
  let lostSince: number | undefined;

  const reconnectSoon = () => {
    if (ended || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void listen();
    }, 1000);
  };

  const listen = async (): Promise<void> => {
    const next = new pg.Client({
      connectionString: url,
      application_name: "herald-dispatcher-listen",
      keepAlive: true,
    });
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (client === next) client = undefined;
      if (!ended && lostSince === undefined) {
        lostSince = Date.now();
        log.warn({ err: error }, "LISTEN connection lost; polling until it is back");
      }
      next.end().catch(() => {});
      reconnectSoon();
    };
    next.on("notification", () => wakeup.wake());
    next.on("error", onLost);
    next.on("end", () => onLost());
    try {
      await next.connect();
      await next.query(`LISTEN ${attemptsChannel}`);
    } catch (error) {
      onLost(error);
      return;
    }
    if (ended) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    if (lostSince !== undefined) {
      log.info({ down_ms: Date.now() - lostSince }, "LISTEN connection back");
      lostSince = undefined;
    }
    // Jobs that became runnable while it was away were announced to no one.
    wakeup.wake();
  };

  await listen();
  return {
    end: async () => {
      ended = true;
      clearTimeout(retry);
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
