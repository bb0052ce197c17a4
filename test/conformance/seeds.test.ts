import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { Attempt, Delivery } from "@herald/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestHerald, type TestHerald } from "../support/herald.ts";
import {
  ExpressReceiver,
  PythonReceiver,
  pythonHas,
  type TlsFiles,
  trustedLoopbackCertificate,
  type Verdict,
} from "./harness.ts";
import { seedProfiles } from "./profiles.ts";
import { bizflex } from "./receivers/000-bizflex.ts";
import { payments001 } from "./receivers/001-payments.ts";
import { payflow } from "./receivers/002-payflow.ts";
import { gateway003 } from "./receivers/003-gateway.ts";
import { startbutton } from "./receivers/004-startbutton.ts";

/**
 * One Herald deployment, five profiles, six receivers written like the seeds' own samples. Every
 * event type a seed lists, a test send, a retry after a failure on the seed's schedule, and
 * deliveries before, during and after a secret rotation must each be accepted by the seed's
 * receiver: judged by the receiver's own answer and its own log, never by Herald's view of it.
 */

// An hour of schedule is 1.8 s here.
const scale = 0.0005;

/** A seed's receiver as the test drives it: its merchant deploys secrets, it can be down. */
interface SeedReceiver {
  url: string;
  verdicts: Verdict[];
  /** The merchant deploys `secret` to the receiver. */
  install(secret: string): Promise<void>;
  /** An outage: every request fails (how depends on the seed) until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

interface Seed {
  name: string;
  profile: keyof typeof seedProfiles;
  /** Where the profile attaches: the merchant (usual) or the endpoint (overriding the merchant's). */
  attach: "merchant" | "endpoint";
  mode: "live" | "test";
  types: string[];
  data: (type: string, ref: string) => Record<string, unknown>;
  /** The body's keys, in order, as the seed's payload example has them. */
  keys: string[];
  /** The field the receiver reads the type from. */
  typeField: string;
  /** Milliseconds from the first attempt to the second, unscaled: the seed's schedule. */
  firstRetry: { ms: number; jitter: number };
  start(secret: string, tls: TlsFiles): Promise<SeedReceiver>;
}

function express(
  mount: Parameters<typeof ExpressReceiver.start>[0] extends (app: infer A, c: infer C) => void
    ? (app: A, consoleOf: C, secret: () => string) => void
    : never,
  options: { path: string; https?: boolean; outageStatus: number },
) {
  return async (initial: string, tls: TlsFiles): Promise<SeedReceiver> => {
    let secret = initial;
    const receiver = await ExpressReceiver.start((app, consoleOf) => mount(app, consoleOf, () => secret), {
      path: options.path,
      ...(options.https && { tls }),
    });
    return {
      url: receiver.url,
      verdicts: receiver.verdicts,
      install: async (next) => {
        secret = next;
      },
      down: async () => receiver.down(options.outageStatus),
      up: async () => receiver.up(),
      close: () => receiver.close(),
    };
  };
}

function python(file: string, path: string) {
  return async (initial: string): Promise<SeedReceiver> => {
    let secret = initial;
    const receiver = await PythonReceiver.start(fileURLToPath(new URL(file, import.meta.url)), path, secret);
    // A secret installed during an outage waits for `up()`: starting the process then would answer
    // retries signed with the old secret before the merchant activated the new one.
    let running = true;
    return {
      url: receiver.url,
      verdicts: receiver.verdicts,
      install: async (next) => {
        secret = next;
        if (running) await receiver.run(secret);
      },
      // Stopped: connections are refused, as when the merchant's server is down.
      down: async () => {
        running = false;
        await receiver.stop();
      },
      up: async () => {
        running = true;
        await receiver.run(secret);
      },
      close: () => receiver.stop(),
    };
  };
}

const hour = 3_600_000;
const withFlask = pythonHas("flask");
/** Seed 003's events and schedule, shared by its Node.js and Python receivers. */
const seed003: Pick<Seed, "profile" | "mode" | "types" | "data" | "keys" | "typeField" | "firstRetry"> = {
  profile: "gateway-003",
  mode: "test",
  types: [
    "payment.completed",
    "payment.failed",
    "refund.initiated",
    "refund.completed",
    "customer.created",
    "customer.updated",
  ],
  data: (_type, ref) => ({ id: ref, amount: 1000, currency: "USD" }),
  keys: ["id", "type", "created_at", "data"],
  typeField: "type",
  firstRetry: { ms: 60_000, jitter: 0.1 },
};

const seeds: Seed[] = [
  {
    name: "000 BizFlex Africa",
    profile: "bizflex",
    attach: "merchant",
    // Live mode: its schedule starts with 3-minute retries. BizFlex's receivers use https too.
    mode: "live",
    types: ["payment.successful", "payment.failed", "transaction.status_changed"],
    data: (type, ref) => ({ reference: ref, status: type.split(".")[1], amount: 1500 }),
    keys: ["id", "type", "created_at", "data"],
    typeField: "type",
    firstRetry: { ms: 3 * 60_000, jitter: 0 },
    // "Any response other than 200 OK is flagged as a failure": its outage answers 202.
    start: (_secret, tls) =>
      express((app, consoleOf) => bizflex(app, consoleOf), {
        path: "/bizflex/webhook-listener",
        https: true,
        outageStatus: 202,
      })("", tls),
  },
  {
    name: "001 payments",
    profile: "payments-001",
    attach: "merchant",
    mode: "test",
    types: [
      "payment.success",
      "payment.failed",
      "refund.processed",
      "transfer.success",
      "subscription.renew",
    ],
    data: (type, ref) => ({
      transaction_id: ref,
      amount: 5000,
      currency: "NGN",
      status: type.split(".")[1],
      customer: { email: "customer@example.com", name: "John Doe" },
    }),
    keys: ["event", "data"],
    typeField: "event",
    firstRetry: { ms: hour, jitter: 0 },
    start: express(payments001, { path: "/webhook", outageStatus: 503 }),
  },
  {
    name: "002 PayFlow",
    profile: "payflow",
    attach: "merchant",
    mode: "test",
    types: ["payment.succeeded", "payment.failed", "payment.cancelled", "customer.created"],
    data: (_type, ref) => ({
      id: ref,
      amount: 2500,
      currency: "PKR",
      status: "completed",
      customer_email: "customer@example.com",
      provider: "payfast",
      provider_ref: "PF123456789",
    }),
    keys: ["id", "type", "created_at", "data"],
    typeField: "type",
    firstRetry: { ms: hour, jitter: 0 },
    start: express(payflow, { path: "/webhooks/payflow", https: true, outageStatus: 500 }),
  },
  {
    ...seed003,
    name: "003 Webhook (Node.js)",
    attach: "merchant",
    start: express(gateway003, { path: "/webhook", outageStatus: 503 }),
  },
  {
    // Flask where this machine's python3 has it; otherwise the same receiver on http.server.
    name: `003 Webhook (Python ${withFlask ? "Flask" : "http.server"})`,
    ...seed003,
    // Its merchant keeps the default profile; the endpoint names its own.
    attach: "endpoint",
    start: python(withFlask ? "./receivers/003_gateway.py" : "./receivers/003_gateway_plain.py", "/webhook"),
  },
  {
    name: "004 Startbutton",
    profile: "startbutton",
    attach: "merchant",
    mode: "test",
    types: [
      "collection.verified",
      "collection.completed",
      "transfer.pending",
      "transfer.successful",
      "transfer.failed",
      "transfer.reversed",
      "conversion.successful",
      "conversion.pending",
      "conversion.failed",
      "dispute.created",
      "dispute.declined",
      "dispute.processed",
    ],
    data: (type, ref) => ({
      transaction: {
        _id: ref,
        transType: type.split(".")[0],
        status: type.split(".")[1],
        customerEmail: "test@customer.com",
        isRecurrent: false,
        postProcess: null,
        feeAmount: 115500,
        amount: 1030000,
        currency: "ZAR",
      },
      authorizationCode: null,
    }),
    keys: ["event", "data"],
    typeField: "event",
    firstRetry: { ms: hour, jitter: 0 },
    start: express(startbutton, { path: "/webhook/startbutton", outageStatus: 503 }),
  },
];

/** A verdict the seed's receiver would count as a delivery it accepted. */
function accepted(verdict: Verdict): boolean {
  return verdict.status === 200 && !verdict.logs.some(isFailureLog);
}

const isFailureLog = (line: string) => /ERROR|invalid|mismatch|Traceback|\(outage\)/i.test(line);

let herald: TestHerald;
let tls: TlsFiles;

beforeAll(async () => {
  tls = trustedLoopbackCertificate();
  herald = await startTestHerald({ HERALD_RETRY_TIME_SCALE: String(scale) });
  for (const profile of Object.values(seedProfiles)) {
    const answer = await herald.api("POST", "/v1/profiles", profile);
    if (answer.status !== 201) throw new Error(`profile: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
});

afterAll(async () => {
  await herald?.stop();
});

describe.each(seeds)("seed $name, served by the shared deployment", (seed) => {
  let receiver: SeedReceiver;
  let merchant: string;
  let endpoint: string;
  let secret = randomBytes(24).toString("hex");

  beforeAll(async () => {
    receiver = await seed.start(secret, tls);
    const created = await herald.api("POST", "/v1/merchants", {
      name: seed.name,
      ...(seed.attach === "merchant" && { profile: seed.profile }),
    });
    merchant = created.body.id;
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
      url: receiver.url,
      mode: seed.mode,
      // The merchant's own secret for the hex schemes, as their dashboards hand one out; BizFlex
      // verifies nothing, and takes the generated Standard Webhooks secret.
      ...(seed.profile !== "bizflex" && { secret }),
      ...(seed.attach === "endpoint" && { profile: seed.profile }),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    endpoint = answer.body.id;
  });

  afterAll(async () => {
    await receiver?.close();
  });

  async function emit(type: string): Promise<string> {
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
      type,
      mode: seed.mode,
      data: seed.data(type, randomBytes(6).toString("hex")),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    return answer.body.id;
  }

  async function delivery(eventId: string): Promise<{ delivery: Delivery; attempts: Attempt[] }> {
    const { db } = herald.database;
    const found = await db
      .selectFrom("deliveries")
      .selectAll()
      .where("event_id", "=", eventId)
      .executeTakeFirstOrThrow();
    const attempts = await db
      .selectFrom("attempts")
      .selectAll()
      .where("delivery_id", "=", found.id)
      .orderBy("number")
      .execute();
    return { delivery: found, attempts };
  }

  const settled = (eventId: string) =>
    eventually(async () => {
      const found = await delivery(eventId);
      return found.delivery.status === "pending" ? undefined : found;
    }, 20_000);

  /** The receiver's verdict on an attempt: the request whose bytes Herald recorded sending. */
  function verdictOn(attempt: Attempt, eventBody: string): Verdict | undefined {
    const sent = attempt.request_body ?? eventBody;
    return (
      receiver.verdicts.find((v) => v.raw === sent && v.status === attempt.response_status) ??
      // The Python receiver's log has no bodies: its verdicts are matched by order and status.
      (receiver.verdicts.every((v) => v.raw === "") ? undefined : undefined)
    );
  }

  async function eventBody(eventId: string): Promise<string> {
    const row = await herald.database.db
      .selectFrom("events")
      .select("body")
      .where("id", "=", eventId)
      .executeTakeFirstOrThrow();
    return row.body;
  }

  it("accepts every event type the seed lists, in the body shape its payload example shows", async () => {
    const before = receiver.verdicts.length;
    const ids = [];
    for (const type of seed.types) ids.push(await emit(type));
    for (const id of ids) {
      const { delivery: d, attempts } = await settled(id);
      expect(d.status).toBe("succeeded");
      expect(attempts).toHaveLength(1);
      expect(attempts[0]!.response_status).toBe(200);
      const body = await eventBody(id);
      const sent = attempts[0]!.request_body ?? body;
      const parsed = JSON.parse(sent);
      expect(Object.keys(parsed)).toEqual(seed.keys);
      expect(JSON.stringify(parsed)).toBe(sent);
      expect(parsed[seed.typeField]).toBe(JSON.parse(body).type);
      if (seed.profile === "payflow") expect(parsed.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // The Express receivers keep the raw bytes (the Python one's log does not): what Herald
      // recorded sending is exactly what arrived.
      if (receiver.verdicts.some((v) => v.raw !== "")) expect(verdictOn(attempts[0]!, body)).toBeDefined();
    }
    const verdicts = receiver.verdicts.slice(before);
    expect(verdicts).toHaveLength(seed.types.length);
    expect(verdicts.filter((v) => !accepted(v))).toEqual([]);
    const logged = verdicts.flatMap((v) => v.logs).join("\n");
    for (const type of seed.types) expect(logged).toContain(type);
  });

  it("accepts a test send from the endpoint's page", async () => {
    const before = receiver.verdicts.length;
    const answer = await herald.api("POST", `/v1/merchants/${merchant}/endpoints/${endpoint}/test`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.attempt.response_status).toBe(200);
    expect(Object.keys(JSON.parse(answer.body.attempt.request.body))).toEqual(seed.keys);
    const { delivery: d } = await settled(answer.body.event_id);
    expect(d.status).toBe("succeeded");
    await eventually(async () => (receiver.verdicts.length > before ? true : undefined));
    expect(receiver.verdicts.slice(before).filter((v) => !accepted(v))).toEqual([]);
  });

  it("retries after a failure on the seed's schedule, and the retry is accepted", async () => {
    await receiver.down();
    const id = await emit(seed.types[0]!);
    const failed = await eventually(async () => {
      const found = await delivery(id);
      return found.attempts.length >= 1 ? found : undefined;
    });
    expect(failed.attempts[0]!.response_status === 200).toBe(false);
    const before = receiver.verdicts.length;
    await receiver.up();
    const { delivery: d, attempts } = await settled(id);
    expect(d.status).toBe("succeeded");
    // A short schedule (003's first retry is a minute: 30 ms here) may fail more than once while
    // a receiver process restarts; each attempt but the last failed, and the second kept its slot.
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.map((a) => a.response_status === 200)).toEqual(
      attempts.map((_, i) => i === attempts.length - 1),
    );
    const offset = attempts[1]!.scheduled_at.getTime() - d.created_at.getTime();
    const nominal = seed.firstRetry.ms * scale;
    expect(offset).toBeGreaterThanOrEqual(Math.floor(nominal * (1 - seed.firstRetry.jitter)));
    expect(offset).toBeLessThanOrEqual(Math.ceil(nominal * (1 + seed.firstRetry.jitter)));
    await eventually(async () => (receiver.verdicts.length > before ? true : undefined));
    expect(receiver.verdicts.slice(before).filter((v) => !accepted(v))).toEqual([]);
  });

  it("keeps every delivery accepted before, during and after a secret rotation, retries included", async () => {
    const before = receiver.verdicts.length;
    const first = await emit(seed.types[0]!);
    expect((await settled(first)).delivery.status).toBe("succeeded");

    const rotated = await herald.api(
      "POST",
      `/v1/merchants/${merchant}/endpoints/${endpoint}/rotate-secret`,
      {
        grace_period_hours: 24,
      },
    );
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const next: string = rotated.body.secret;

    // During the grace period: the receiver still holds the old secret.
    const during = await emit(seed.types.at(-1)!);
    expect((await settled(during)).delivery.status).toBe("succeeded");

    // A delivery that fails before the switch and is retried after it: the merchant deploys the new
    // secret and activates it while the receiver is down; the retry carries the new signature.
    await receiver.down();
    const across = await emit(seed.types[0]!);
    await eventually(async () => ((await delivery(across)).attempts.length >= 1 ? true : undefined));
    await receiver.install(next);
    const activated = await herald.api(
      "POST",
      `/v1/merchants/${merchant}/endpoints/${endpoint}/secret/activate`,
    );
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    expect(activated.body.retired).toBe(1);
    await receiver.up();
    const retried = await settled(across);
    expect(retried.delivery.status).toBe("succeeded");
    expect(retried.attempts.at(-1)!.response_status).toBe(200);

    // After the switch: the new secret alone.
    const after = await emit(seed.types.at(-1)!);
    expect((await settled(after)).delivery.status).toBe("succeeded");
    secret = next;

    await eventually(async () =>
      receiver.verdicts.slice(before).filter(accepted).length >= 4 ? true : undefined,
    );
    const verdicts = receiver.verdicts.slice(before).filter((v) => !v.logs.includes("(outage)"));
    expect(verdicts.filter((v) => !accepted(v))).toEqual([]);
  });
});
