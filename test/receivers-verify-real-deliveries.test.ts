import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { generateSecret, type SignatureScheme } from "@herald/core";
import { expressWebhook, fastifyWebhook, type HeraldEvent, verifyRequest } from "@herald/verify";
import express from "express";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  emit,
  eventually,
  settledDelivery,
  useHerald,
} from "./support/fixture.ts";

// Bytes a re-serialising receiver would change: escapes, non-ASCII, key order, a float.
const data = { note: "naïve “quotes” \u2028 😀", z: 1, a: [1.5, { "</script>": true }] };

describe("receivers built on @herald/verify and the Python sample accept real deliveries and refuse forgeries", () => {
  const scene = useHerald();
  let merchant: string;
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    merchant = await createMerchant(scene.herald);
  });
  afterAll(async () => {
    for (const close of closers) await close();
  });

  let receivers = 0;
  /** Registers an endpoint at `url` with a secret of our own, emits an event to it alone, waits for it to settle. */
  async function deliverTo(url: string, scheme: SignatureScheme, secret: string) {
    const { herald } = scene;
    const type = `receiver.n${++receivers}`;
    const endpoint = await createEndpoint(herald, merchant, {
      url,
      signature_scheme: scheme,
      secret,
      event_types: [type],
    });
    const eventId = await emit(herald, merchant, { type, data });
    const { delivery } = await settledDelivery(herald, eventId);
    return { endpoint, type, eventId, delivery };
  }

  async function listen(server: Server): Promise<string> {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  }

  it("Express with express.raw and expressWebhook (standard)", async () => {
    const secret = generateSecret("standard");
    const seen: HeraldEvent[] = [];
    const app = express();
    app.post("/hooks", express.raw({ type: "application/json" }), expressWebhook({ secret }), (req, res) => {
      seen.push((req as unknown as { webhook: HeraldEvent }).webhook);
      res.sendStatus(204);
    });
    const url = await listen(createServer(app));
    const { eventId, delivery } = await deliverTo(url, "standard", secret);
    expect(delivery.status).toBe("succeeded");
    expect(seen).toEqual([expect.objectContaining({ id: eventId, data })]);

    const forged = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": "x",
        "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "webhook-signature": "v1,AAAA",
      },
      body: "{}",
    });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ error: "no_matching_signature" });
  });

  it("Fastify with fastifyWebhook in the webhook scope (hmac-sha512-hex), the rest still parsing JSON", async () => {
    const secret = generateSecret("hmac-sha512-hex");
    const seen: HeraldEvent[] = [];
    const app = Fastify();
    await app.register(async (scope) => {
      await scope.register(fastifyWebhook({ secret, scheme: "hmac-sha512-hex" }));
      scope.post("/hooks", async (request, reply) => {
        seen.push((request as unknown as { webhook: HeraldEvent }).webhook);
        return reply.code(204).send();
      });
    });
    app.post("/json", async (request) => request.body);
    await app.listen({ port: 0, host: "127.0.0.1" });
    closers.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const { eventId, delivery } = await deliverTo(`${base}/hooks`, "hmac-sha512-hex", secret);
    expect(delivery.status).toBe("succeeded");
    expect(seen).toEqual([expect.objectContaining({ id: eventId, data })]);
    const echoed = await fetch(`${base}/json`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"a":1}',
    });
    expect(await echoed.json()).toEqual({ a: 1 });
    const forged = await fetch(`${base}/hooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signature": "00" },
      body: "{}",
    });
    expect(forged.status).toBe(400);
  });

  it("a Web Request handler (verifyRequest) keeps verifying through a rotation with only the old secret", async () => {
    const { herald } = scene;
    const secret = generateSecret("standard");
    const seen: HeraldEvent[] = [];
    const handler = async (request: Request) => {
      try {
        seen.push(await verifyRequest(request, { secret }));
        return new Response(null, { status: 204 });
      } catch {
        return new Response(null, { status: 400 });
      }
    };
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk);
      const headers = new Headers(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const answer = await handler(
        new Request(`http://local${req.url}`, { method: "POST", headers, body: Buffer.concat(chunks) }),
      );
      res.writeHead(answer.status).end();
    });
    const url = await listen(server);
    const { endpoint, type, delivery } = await deliverTo(url, "standard", secret);
    expect(delivery.status).toBe("succeeded");
    const rotated = await herald.api(
      "POST",
      `/v1/merchants/${merchant}/endpoints/${endpoint.id}/rotate-secret`,
    );
    expect(rotated.status).toBe(200);
    const again = await settledDelivery(herald, await emit(herald, merchant, { type, data }));
    expect(again.delivery.status).toBe("succeeded");
    expect(seen).toHaveLength(2);
  });

  async function python(
    env: Record<string, string>,
  ): Promise<{ url: string; lines: Record<string, unknown>[] }> {
    const child: ChildProcess = spawn("python3", ["docs/receivers/receiver.py"], {
      env: { ...process.env, PORT: "0", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    closers.push(() => child.kill());
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout! }).on("line", (line) => lines.push(JSON.parse(line)));
    const port = await eventually(
      async () => lines.find((l) => l.listening)?.listening as number | undefined,
    );
    return { url: `http://127.0.0.1:${port}/hooks`, lines };
  }

  it.each(["standard", "hmac-sha256-hex"] as const)(
    "the Python receiver in docs/receivers verifies %s",
    async (scheme) => {
      const secret = generateSecret(scheme);
      const receiver = await python({ HERALD_SECRET: secret, HERALD_SCHEME: scheme });
      const { eventId, delivery } = await deliverTo(receiver.url, scheme, secret);
      expect(delivery.status).toBe("succeeded");
      expect(receiver.lines).toContainEqual(expect.objectContaining({ verified: true, id: eventId }));
      const forged = await fetch(receiver.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": eventId,
          "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
          "webhook-signature": "v1,AAAA",
          "x-signature": "00",
        },
        body: "{}",
      });
      expect(forged.status).toBe(400);
      // Its log line travels a pipe of its own, so it may land after the answer does.
      const refusal = await eventually(async () => receiver.lines.find((l) => l.verified === false));
      expect(refusal.reason).toBe("no_matching_signature");
    },
  );
});
