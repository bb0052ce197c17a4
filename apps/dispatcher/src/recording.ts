import type { Logger } from "@herald/config";
import {
  type AttemptJobRecord,
  type AttemptRecord,
  abandonDeliveries,
  announceRecorded,
  attemptPriority,
  attemptQueue,
  bossExecutor,
  composableSettle,
  type Db,
  type FailureWindow,
  type RecordedAttempts,
  recordAttempts,
  settleAttemptJobs,
  touchesEndpointHealth,
} from "@herald/db";
import type { JobInsert, PgBoss } from "pg-boss";
import type { AttemptAftermath } from "./aftermath.ts";
import type { Leases } from "./leases.ts";
import { metrics } from "./metrics.ts";
import { storableText } from "./storable.ts";

/** A finished attempt (or a job that needed none) waiting to be written. */
export interface Finished extends AttemptAftermath {
  job: AttemptJobRecord;
  record?: AttemptRecord;
  next?: JobInsert;
  abandon?: string;
}

const recordBatch = 200;
const flushEveryMs = 5;
// Waits after a write that failed because the database is away, doubling up to the last.
const backoffMs = { first: 250, max: 5000 };

export interface RecorderDeps {
  db: Db;
  boss: PgBoss;
  leases: Leases;
  log: Logger;
  failureWindow: FailureWindow;
  /** Called after each batch is written: settled jobs free endpoint slots and room. */
  onRecorded(): void;
  /**
   * What a batch sets off (pauses, FIFO lines, operator events), in its transaction. Each finished
   * attempt is given as it was stored: one whose lease lapsed changed nothing on its delivery.
   */
  afterRecorded?(trx: Db, batch: Finished[], recorded: RecordedAttempts): Promise<void>;
}

/**
 * The recording path: finished attempts are buffered, written in small batches, each batch in one
 * transaction that completes its jobs, stores the attempt rows and delivery state and creates the
 * next jobs. Then their leases are released.
 *
 * Nothing one receiver sends can stop it. Response data is made storable before it gets here (see
 * storable.ts); should a batch still fail for what it holds (not because the database is away), it
 * is split in halves until the record at fault is alone, and that one is written without what the
 * receiver sent, as error class `unrecordable`, with the database's complaint and a log line naming
 * its endpoint and delivery. A batch that fails because the database is away waits and is retried.
 *
 * Fencing: a job whose lease lapsed meanwhile belongs to whichever dispatcher re-runs it. Its attempt
 * is still recorded (it was sent), but only a success changes the delivery, and the next attempt is
 * left to the re-run, so a schedule never forks in two.
 */
export class Recorder {
  readonly #deps: RecorderDeps;
  readonly #unrecorded: Finished[] = [];
  #flushing: Promise<void> | undefined;
  #recordUntil = Number.POSITIVE_INFINITY;
  /** When the oldest buffered attempt was added. */
  #waitingSince = 0;

  constructor(deps: RecorderDeps) {
    this.#deps = deps;
  }

  add(finished: Finished): void {
    if (this.#unrecorded.length === 0) this.#waitingSince = performance.now();
    this.#unrecorded.push(finished);
    this.#flushSoon();
  }

  /** Writes what is buffered, giving up on a database that stays away for `withinMs`. */
  async drain(withinMs: number): Promise<void> {
    this.#recordUntil = Date.now() + withinMs;
    this.#flushSoon();
    while (this.#flushing) await this.#flushing;
  }

  #flushSoon(): void {
    if (this.#flushing) return;
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = undefined;
      if (this.#unrecorded.length > 0) this.#flushSoon();
    });
  }

  async #flush(): Promise<void> {
    const { log } = this.#deps;
    // Gather for `flushEveryMs` from the oldest buffered attempt: those that piled up while the
    // previous batch was being written have waited long enough (each holds its endpoint's slot).
    const waited = performance.now() - this.#waitingSince;
    if (waited < flushEveryMs) await sleep(flushEveryMs - waited);
    let wait = backoffMs.first;
    while (this.#unrecorded.length > 0) {
      const taken = this.#unrecorded.splice(0, recordBatch);
      const written = new Set<Finished>();
      try {
        await this.#writeSplitting(taken, written);
        wait = backoffMs.first;
      } catch (error) {
        // Halves written before the database went away stay written.
        const batch = taken.filter((f) => !written.has(f));
        if (Date.now() > this.#recordUntil) {
          // Their leases lapse once this process is gone, and other dispatchers re-run them.
          log.warn(
            { err: error, attempts: batch.length + this.#unrecorded.length },
            "giving up recording at shutdown",
          );
          this.#unrecorded.length = 0;
          return;
        }
        log.warn(
          { err: error, attempts: batch.length, retry_in_ms: wait },
          "recording attempts failed; retrying",
        );
        this.#unrecorded.unshift(...batch);
        await sleep(wait);
        wait = Math.min(wait * 2, backoffMs.max);
      }
    }
  }

  /**
   * Writes `batch`; if what it holds is refused, writes each half on its own, down to the one
   * record at fault. Throws only when the database itself is away (the caller waits and retries).
   */
  async #writeSplitting(batch: Finished[], written: Set<Finished>): Promise<void> {
    try {
      await this.#write(batch);
      for (const f of batch) written.add(f);
      return;
    } catch (error) {
      if (isTransient(error)) throw error;
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.#writeSplitting(batch.slice(0, half), written);
        await this.#writeSplitting(batch.slice(half), written);
        return;
      }
      const [alone] = batch as [Finished];
      this.#deps.log.error(
        {
          err: error,
          delivery_id: alone.job.data.delivery_id,
          endpoint_id: alone.record?.endpoint_id,
          attempt_id: alone.record?.id,
        },
        "attempt refused by the database; recording it without the response, as unrecordable",
      );
      metrics.unrecordable.inc();
      // Without anything the receiver sent; if even this fails, the database is at fault, and the
      // caller waits and retries it like any other write.
      await this.#write([withoutResponse(alone, error)]);
      written.add(alone);
    }
  }

  async #write(batch: Finished[]): Promise<void> {
    const outcome = await this.#record(batch);
    this.#logRecorded(batch, outcome);
    this.#deps.leases.release(batch.map((f) => f.job));
    this.#deps.onRecorded();
  }

  async #record(batch: Finished[]): Promise<{ recorded: RecordedAttempts; lapsed: Finished[] }> {
    const { db, boss, failureWindow } = this.#deps;
    // The usual batch, successes that set nothing else off, is one statement: its jobs settled
    // and its attempts stored together, with no BEGIN or COMMIT round trip.
    const records = batch.flatMap((f) => (f.record ? [f.record] : []));
    if (records.length > 0 && batch.every(setsNothingOff)) {
      const settling = await composableSettle(
        boss,
        batch.map((f) => f.job),
      );
      if (settling) {
        const recorded = await recordAttempts(db, records, failureWindow, settling);
        const settled = new Set(recorded.settled);
        // A success counts even when its lease lapsed: the re-run finds the delivery settled.
        return { recorded, lapsed: batch.filter((f) => !settled.has(f.job.id)) };
      }
    }
    return db.transaction().execute(async (trx) => {
      const settled = await settleAttemptJobs(
        trx,
        boss,
        batch.map((f) => f.job),
      );
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
      // Someone may be waiting on these (a `/test` call); scheduled attempts have no one waiting.
      await announceRecorded(
        trx,
        records.filter((r) => r.trigger !== "scheduled").map((r) => r.delivery_id),
      );
      await this.#deps.afterRecorded?.(
        trx,
        batch.map((f) =>
          settled.has(f.job.id) || !f.record || f.record.succeeded
            ? f
            : { ...f, record: { ...f.record, status: null, next_attempt_at: null } },
        ),
        recorded,
      );
      return { recorded, lapsed };
    });
  }

  #logRecorded(
    batch: Finished[],
    { recorded, lapsed }: { recorded: RecordedAttempts; lapsed: Finished[] },
  ): void {
    const { log } = this.#deps;
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
}

/**
 * Whether recording `finished` is all there is to it: a scheduled success (or no attempt at all)
 * that schedules, abandons, pauses, moves a FIFO line, finishes a recovery, disables or changes an
 * endpoint's health in nothing, and that nobody waits on.
 */
function setsNothingOff(finished: Finished): boolean {
  const { record } = finished;
  return (
    !finished.next &&
    !finished.abandon &&
    finished.pauseMs === undefined &&
    !finished.fifoEndpoint &&
    finished.job.priority !== attemptPriority.recovery &&
    (!record || (record.trigger === "scheduled" && !touchesEndpointHealth(record)))
  );
}

/** The attempt with nothing the receiver sent, and why it could not be stored. */
function withoutResponse(finished: Finished, error: unknown): Finished {
  if (!finished.record) return { ...finished, abandon: undefined };
  const detail = `the database refused this attempt's record: ${describe(error)}`;
  return {
    ...finished,
    record: {
      ...finished.record,
      request_headers: {},
      response_headers: null,
      response_body: null,
      response_body_encoding: "utf8",
      error: "unrecordable",
      error_detail: storableText(detail).slice(0, 500),
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// SQLSTATE classes that say the database is away or busy, not that the data is bad: connection
// (08), resources (53), operator intervention such as a shutdown (57), lock or serialization (40,
// 55). Errors without a SQLSTATE are the network's (ECONNREFUSED, a connection terminated).
const transientClasses = new Set(["08", "53", "57", "40", "55", "58", "XX"]);

function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return !isDataError(error);
  return transientClasses.has(code.slice(0, 2));
}

/** An error thrown on our side before anything reached the database (a value that cannot be sent). */
function isDataError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
