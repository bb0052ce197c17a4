import { type Config, type Logger, version } from "@herald/config";
import {
  attemptOutcome,
  type Cidr,
  defaultProfile,
  deliveryHeaders,
  effectiveProfile,
  newId,
  type RetryPolicy,
  type SignatureScheme,
  scheduleOffsets,
  shapedBody,
  slowDownPauseMs,
} from "@herald/core";
import {
  type AttemptContext,
  type AttemptJobRecord,
  attemptContexts,
  attemptJob,
  attemptLease,
  attemptsChannel,
  type Db,
  deferAttempts,
  fetchAttempts,
  reclaimLapsedAttempts,
  reconcileDeliveries,
} from "@herald/db";
import type { PgBoss } from "pg-boss";
import { afterRecorded } from "./aftermath.ts";
import { DnsCache } from "./dns.ts";
import { createGuardedAgent } from "./guarded-agent.ts";
import { claimOf, Leases } from "./leases.ts";
import { listen } from "./listener.ts";
import { metrics } from "./metrics.ts";
import { type Finished, Recorder } from "./recording.ts";
import { isRelayUrl, relay } from "./relay.ts";
import { SecretCache } from "./secrets.ts";
import { type Sent, send } from "./send.ts";
import { storableBody, storableHeaders, storableText } from "./storable.ts";
import { Wakeup } from "./wakeup.ts";

export const userAgent = `Herald/${version}`;

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

// Idle dispatchers look for due work this often; new work and local retries wake them sooner.
const idlePollMs = 250;
const fetchBatch = 100;
// After a fetch that emptied the queue, the next one waits until this long after it started: under
// a steady moderate load each fetch then takes what arrived meanwhile, not one job per wake-up
// (a fetch is a transaction of its own, and at moderate rates their number, not the jobs, is the
// cost). A first event after a quiet spell is fetched at once; a full fetch is followed at once.
const fetchGatherMs = 10;
// Waits after a failed fetch (Postgres away), doubling up to the last.
const backoffMs = { first: 250, max: 5000 };
// A job taken beyond its merchant's share goes back to the queue for this long; its merchant's own
// attempts finishing meanwhile make room for it.
const deferMs = 250;
// How many endpoints a fetch is told to skip, at most (one array parameter).
const maxSkippedEndpoints = 2000;
const defaultDrainMs = 10_000;
// Once the drain is over, how long the last results may take to reach a database that is away.
const finalFlushMs = 5000;

/**
 * The delivery loop: take due attempts → sign → POST → record → schedule the next or finish.
 * Attempts run concurrently: up to `dispatcherConcurrency` per process, `merchantConcurrency` per
 * merchant per process (its fair share: jobs taken beyond it go back to the queue for a moment),
 * and `endpointConcurrency` per endpoint across all processes (a hard cap, see `fetchAttempts`).
 * No transaction is open during a POST: results are written afterwards by the `Recorder`.
 * Every job taken is held under a lease (see `Leases`) until its result is written, so a dispatcher
 * that dies mid-attempt loses nothing: its jobs come back to the queue when their leases lapse.
 * An attempt that throws is recorded as error class `internal` and follows the schedule, and a
 * reconciler re-queues any pending delivery whose job was lost: no delivery is left stranded.
 */
export async function startDispatcher(deps: DispatcherDeps): Promise<Dispatcher> {
  const { config, db, boss, log } = deps;
  const dns = new DnsCache({ servers: config.dnsServers });
  const agent = createGuardedAgent({
    allowed: deps.allowedCidrs,
    dns,
    connections: 64,
    keepAliveTimeout: 10_000,
  });
  const wakeup = new Wakeup();
  const listener = await listen(
    deps.databaseUrl,
    attemptsChannel,
    // Jobs that became runnable while the connection was away were announced to no one.
    { onNotify: () => wakeup.wake(), onBack: () => wakeup.wake() },
    log,
    "herald-dispatcher-listen",
  );
  const leases = new Leases(boss, log);
  const secrets = new SecretCache(deps.encryptionKey);
  const fallbackProfile = defaultProfile(config);
  const scale = config.retryTimeScale;
  const recorder = new Recorder({
    db,
    boss,
    leases,
    log,
    failureWindow: { hours: config.disableAfterHours, ms: config.disableAfterHours * 3_600_000 * scale },
    // Completed jobs free their endpoints' in-flight slots: jobs held back by that limit are
    // runnable now, and pg-boss announces nothing for them.
    onRecorded: () => wakeup.wake(),
    afterRecorded: (trx, batch, recorded) =>
      afterRecorded(trx, batch, recorded, { boss, failingNoticeMs: 3_600_000 * scale }),
  });
  const inFlight = new Map<string, Promise<void>>();
  // Attempts in flight per merchant in this process, for its fair share.
  const perMerchant = new Map<string, number>();
  // Endpoints seen per merchant, so that the jobs of a merchant at its share are not even fetched.
  const merchantEndpoints = new Map<string, Set<string>>();
  // Cuts attempts short once a shutdown's drain time is over; their jobs have been handed back.
  const cutShort = new AbortController();
  let running = true;
  const stopped = Promise.withResolvers<void>();

  /** Takes up to `room` due attempts; `emptied`: the queue had fewer to give. */
  async function takeDueAttempts(
    room: number,
  ): Promise<{ due: [AttemptJobRecord, AttemptContext | undefined][]; emptied: boolean }> {
    const batchSize = Math.min(room, fetchBatch);
    const {
      run: jobs,
      slots,
      parked,
      taken,
    } = await fetchAttempts(db, boss, {
      batchSize,
      endpointConcurrency: config.endpointConcurrency,
      skipEndpoints: endpointsAtShare(),
    });
    // Jobs held back for a throttled endpoint's slot: be there when it comes.
    for (const slot of slots) wakeup.at(slot);
    if (slots.length > 0) metrics.throttled.inc(slots.length);
    if (parked) metrics.fifoParked.inc(parked);
    const emptied = taken < batchSize;
    if (jobs.length === 0) return { due: [], emptied };
    let contexts: AttemptContext[];
    try {
      contexts = await attemptContexts(db, [...new Set(jobs.map((j) => j.data.delivery_id))]);
    } catch (error) {
      await leases.handBack(jobs).catch(() => {});
      throw error;
    }
    const byId = new Map(contexts.map((c) => [c.id, c]));
    const due = jobs.map(
      (job) => [job, byId.get(job.data.delivery_id)] as [AttemptJobRecord, AttemptContext | undefined],
    );
    return { due: await withinShares(due), emptied };
  }

  /** The known endpoints of merchants that have their whole share in flight (bounded). */
  function endpointsAtShare(): string[] {
    const skip: string[] = [];
    for (const [merchant, count] of perMerchant) {
      if (count < config.merchantConcurrency) continue;
      for (const endpoint of merchantEndpoints.get(merchant) ?? []) {
        skip.push(endpoint);
        if (skip.length >= maxSkippedEndpoints) return skip;
      }
    }
    return skip;
  }

  function rememberEndpoint(delivery: AttemptContext): void {
    let endpoints = merchantEndpoints.get(delivery.merchant_id);
    if (!endpoints) {
      if (merchantEndpoints.size >= 10_000) merchantEndpoints.clear();
      endpoints = new Set();
      merchantEndpoints.set(delivery.merchant_id, endpoints);
    }
    if (endpoints.size < maxSkippedEndpoints) endpoints.add(delivery.endpoint_id);
  }

  /**
   * Keeps the jobs whose merchant has room in its share, and puts the others back in the queue for
   * a moment (they do not count as tries). pg-boss cannot fetch by merchant, so one merchant with
   * hundreds of endpoints that never answer would otherwise fill every slot of every dispatcher.
   * Fetches skip the endpoints already known of a merchant at its share, so its backlog is handed
   * back about once per endpoint, not on every fetch, and other merchants' jobs are found first.
   */
  async function withinShares(
    due: [AttemptJobRecord, AttemptContext | undefined][],
  ): Promise<[AttemptJobRecord, AttemptContext | undefined][]> {
    const taking = new Map<string, number>();
    const keep: [AttemptJobRecord, AttemptContext | undefined][] = [];
    const later: AttemptJobRecord[] = [];
    for (const entry of due) {
      if (entry[1]) rememberEndpoint(entry[1]);
      const merchant = entry[1]?.merchant_id;
      if (merchant === undefined) {
        keep.push(entry);
        continue;
      }
      const count = (perMerchant.get(merchant) ?? 0) + (taking.get(merchant) ?? 0);
      if (count < config.merchantConcurrency) {
        taking.set(merchant, (taking.get(merchant) ?? 0) + 1);
        keep.push(entry);
      } else later.push(entry[0]);
    }
    if (later.length > 0) {
      metrics.merchantDeferred.inc(later.length);
      try {
        await deferAttempts(db, boss, later, deferMs);
      } catch (error) {
        // Still claimed by us and not renewed: they come back when their leases lapse.
        log.warn(
          { err: error, attempts: later.length },
          "could not put attempts beyond a merchant's share back",
        );
      }
    }
    return keep;
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
    // The endpoint's delivery profile decides the body's shape, the hex header and what succeeds.
    const profile = effectiveProfile(delivery.profile_name, delivery.profile_settings, fallbackProfile);
    let body = delivery.body;
    let headers: Record<string, string> = {};
    let sent: Sent;
    try {
      body = shapedBody(delivery.body, profile.envelope);
      headers = deliveryHeaders({
        scheme: delivery.signature_scheme as SignatureScheme,
        secrets: secrets.open(delivery, now),
        id: delivery.event_id,
        timestamp: Math.floor(now.getTime() / 1000),
        body,
        hexHeader: profile.signature_header,
        userAgent,
        custom: delivery.headers,
      });
      const target = {
        url: delivery.url,
        headers,
        body,
        timeoutMs: delivery.timeout_ms,
        abort: cutShort.signal,
      };
      sent = isRelayUrl(delivery.url)
        ? await relay(db, { ...target, endpointId: delivery.endpoint_id, deliveryId: delivery.id })
        : await send(agent, { ...target, dns });
    } catch (error) {
      // Ours, not the receiver's (a secret that cannot be decrypted with this process's key, say):
      // on record as `internal`, and the delivery follows its schedule like any failed attempt.
      log.error(
        { err: error, delivery_id: delivery.id, endpoint_id: delivery.endpoint_id },
        "attempt failed internally",
      );
      sent = {
        startedAt: now,
        durationMs: 0,
        status: null,
        headers: null,
        body: null,
        error: "internal",
        errorDetail: error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500),
      };
    }
    const outcome = attemptOutcome({
      trigger,
      // A response cut short (timeout, reset) or a redirect is judged as no response at all.
      status: sent.error ? null : sent.status,
      retryAfterHeader: sent.headers?.["retry-after"],
      successRule: profile.success_rule,
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
    const pause = slowDownPauseMs(sent.error ? null : sent.status, sent.headers?.["retry-after"], now, scale);
    if (pause !== null) metrics.slowDowns.inc();
    const response = sent.body && storableBody(sent.body);
    return {
      job,
      ...(pause !== null && { pauseMs: pause }),
      record: {
        id: newId("attempt", sent.startedAt.getTime()),
        delivery_id: delivery.id,
        endpoint_id: delivery.endpoint_id,
        trigger,
        scheduled_at: scheduledAt,
        started_at: sent.startedAt,
        duration_ms: sent.durationMs,
        request_url: delivery.url,
        request_headers: storableHeaders(headers),
        request_body: body === delivery.body ? null : body,
        response_status: sent.status,
        response_headers: storableHeaders(sent.headers),
        response_body: response ? response.text : null,
        response_body_encoding: response ? response.encoding : "utf8",
        error: sent.error ?? (outcome.succeeded ? null : "http_status"),
        error_detail: storableText(sent.errorDetail),
        status: outcome.status,
        next_attempt_at: next,
        succeeded: outcome.succeeded,
        disable_reason: outcome.disableReason,
        endpoint_failing: delivery.failing_since !== null,
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

  function start(job: AttemptJobRecord, delivery: AttemptContext | undefined): void {
    leases.hold(job);
    const merchant = delivery?.merchant_id;
    if (merchant !== undefined) perMerchant.set(merchant, (perMerchant.get(merchant) ?? 0) + 1);
    const task = attempt(job, delivery)
      .then(
        (done) => {
          if (!leases.holds(job)) return;
          done.merchantId = delivery?.merchant_id;
          // Whatever became of it, its FIFO line may move on.
          if (delivery?.ordering === "fifo") done.fifoEndpoint = delivery.endpoint_id;
          recorder.add(done);
        },
        (error: unknown) => {
          // Not completed: the job comes back when its lease lapses, and is tried again.
          log.error({ err: error, delivery_id: job.data.delivery_id }, "attempt crashed");
          leases.release([job]);
        },
      )
      .finally(() => {
        inFlight.delete(claimOf(job));
        if (merchant !== undefined) {
          const left = (perMerchant.get(merchant) ?? 1) - 1;
          if (left > 0) perMerchant.set(merchant, left);
          else perMerchant.delete(merchant);
        }
        metrics.inFlight.set(inFlight.size);
      });
    inFlight.set(claimOf(job), task);
  }

  async function loop(): Promise<void> {
    let wait = 0;
    // When the last fetch that left the queue empty started.
    let drainedAt = Number.NEGATIVE_INFINITY;
    while (running) {
      // Attempts waiting to be recorded count too: a slow database holds the loop back.
      const room = config.dispatcherConcurrency - leases.count;
      if (room <= 0) {
        // Woken when a recorded batch frees room.
        await wakeup.wait(idlePollMs);
        continue;
      }
      const gatherFor = drainedAt + fetchGatherMs - performance.now();
      if (gatherFor > 0) await Promise.race([sleep(gatherFor), stopped.promise]);
      let due: [AttemptJobRecord, AttemptContext | undefined][];
      const fetchedAt = performance.now();
      try {
        const taken = await takeDueAttempts(room);
        due = taken.due;
        drainedAt = taken.emptied ? fetchedAt : Number.NEGATIVE_INFINITY;
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

  /** Now and then, re-queues pending deliveries whose job was lost (see `reconcileDeliveries`). */
  async function reconcile(): Promise<void> {
    try {
      const repaired = await reconcileDeliveries(db, boss, { overdueMs: config.reconcileEveryMs });
      if (repaired.length > 0) {
        metrics.reconciled.inc(repaired.length);
        log.warn(
          { deliveries: repaired.length, first: repaired.slice(0, 10) },
          "re-queued pending deliveries that had no job",
        );
        wakeup.wake();
      }
    } catch (error) {
      log.warn({ err: error }, "reconciling deliveries failed; trying again later");
    }
  }
  const reconciler = setInterval(() => void reconcile(), config.reconcileEveryMs);
  reconciler.unref();

  /** Brings back the attempts of dispatchers that died, as soon as their leases lapse. */
  let reclaiming = false;
  async function reclaim(): Promise<void> {
    if (reclaiming) return;
    reclaiming = true;
    try {
      const back = await reclaimLapsedAttempts(db, boss);
      if (back > 0) {
        log.warn({ attempts: back }, "re-queued attempts whose dispatcher stopped renewing their leases");
        wakeup.wake();
      }
    } catch (error) {
      log.debug({ err: error }, "reclaiming lapsed attempts failed; trying again shortly");
    } finally {
      reclaiming = false;
    }
  }
  const reclaimer = setInterval(() => void reclaim(), attemptLease.renewEveryMs);
  reclaimer.unref();

  const looping = loop();
  log.info(
    {
      concurrency: config.dispatcherConcurrency,
      merchant_concurrency: config.merchantConcurrency,
      endpoint_concurrency: config.endpointConcurrency,
    },
    "dispatcher started",
  );

  return {
    async stop(drainMs = defaultDrainMs) {
      running = false;
      clearInterval(reconciler);
      clearInterval(reclaimer);
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
      await recorder.drain(finalFlushMs);
      leases.stop();
      await listener.end().catch(() => {});
      await agent.destroy().catch(() => {});
      log.info("dispatcher stopped");
    },
  };
}

function statusClass(status: number | null): string {
  return status === null ? "none" : `${Math.floor(status / 100)}xx`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
