import { attemptRecordedChannel } from "@herald/db";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AttemptWaiters } from "../apps/api/src/attempt-waiters.ts";
import { freshDatabase } from "./support/database.ts";

describe("waiting for a recorded attempt: woken by NOTIFY, bounded", () => {
  let pool: pg.Pool;
  let waiters: AttemptWaiters;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase(), max: 2 });
    waiters = new AttemptWaiters(pool, 2);
  });
  afterAll(async () => {
    await waiters.close();
    await pool.end();
  });

  it("a waiter reads once, sleeps, and reads again only when its delivery is announced", async () => {
    let reads = 0;
    let recorded = false;
    const waiting = waiters.waitFor("dlv_a", 20_000, async () => {
      reads++;
      return recorded ? "attempt" : undefined;
    });
    // Another delivery's announcement does not wake it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await pool.query("SELECT pg_notify($1, 'dlv_other')", [attemptRecordedChannel]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reads).toBe(1);
    recorded = true;
    await pool.query("SELECT pg_notify($1, 'dlv_a')", [attemptRecordedChannel]);
    expect(await waiting).toBe("attempt");
    expect(reads).toBe(2);
  });

  it("beyond its bound, a call answers undefined at once instead of waiting", async () => {
    let release = false;
    const check = async () => (release ? "done" : undefined);
    const first = waiters.waitFor("dlv_1", 20_000, check);
    const second = waiters.waitFor("dlv_2", 20_000, check);
    let thirdReads = 0;
    const third = await waiters.waitFor("dlv_3", 20_000, async () => {
      thirdReads++;
      return "never read";
    });
    expect(third).toBeUndefined();
    expect(thirdReads).toBe(0);
    release = true;
    await pool.query("SELECT pg_notify($1, 'dlv_1'), pg_notify($1, 'dlv_2')", [attemptRecordedChannel]);
    expect(await Promise.all([first, second])).toEqual(["done", "done"]);
  });
});
