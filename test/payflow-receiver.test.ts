import { createHmac, timingSafeEqual } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, eventually, useHerald } from "./support/fixture.ts";

interface Verified {
  verified: boolean;
  raw: string;
  body: { id: string; data: unknown };
  signature: string | undefined;
}

/**
 * A merchant's receiver exactly as the PayFlow seed writes it: Express, `express.json()`, and the
 * hex HMAC-SHA256 of `JSON.stringify(req.body)` compared with the signature header. The raw bytes
 * are kept only so the test can compare them with what Herald says it sent.
 */
async function payflowReceiver(secret: () => string, header: string) {
  const received: Verified[] = [];
  const app = express();
  app.use(
    express.json({
      verify: (req, _res, buf) => {
        (req as unknown as { raw: string }).raw = buf.toString("utf8");
      },
    }),
  );
  app.post("/webhooks/payflow", (req, res) => {
    const signature = req.headers[header] as string | undefined;
    const expectedSignature = createHmac("sha256", secret()).update(JSON.stringify(req.body)).digest("hex");
    const verified =
      signature !== undefined &&
      signature.length === expectedSignature.length &&
      timingSafeEqual(Buffer.from(signature), Buffer.from(expectedSignature));
    received.push({ verified, raw: (req as unknown as { raw: string }).raw, body: req.body, signature });
    res.status(verified ? 200 : 401).json({ received: true });
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  return {
    received,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/payflow`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Payloads as the emitter writes them, raw: JSON text, so odd number spellings survive to the API. */
const payloads: [name: string, data: string][] = [
  ["unicode", '{"name":"Zoë Ñandú","city":"Zürich","cjk":"支付成功","rtl":"مرحبا","combining":"e\u0301"}'],
  ["emoji", '{"note":"paid 💸🎉","flag":"🇵🇰","zwj":"👩‍💻","escaped":"\\ud83d\\ude00"}'],
  [
    "nested arrays",
    '{"matrix":[[1,2],[3,[4,[5,[]]]]],"objects":[{"a":[{"b":[null,true,false]}]}],"empty":[]}',
  ],
  [
    "integers up to 2^53-1",
    '{"max":9007199254740991,"min":-9007199254740991,"amount":250000000000,"zero":0,"negative":-42}',
  ],
  [
    "escaped quotes, backslashes, newlines and control characters",
    '{"quote":"say \\"hi\\"","path":"C:\\\\temp\\\\new","lines":"a\\nb\\r\\nc\\td","control":"\\u0001\\u001f\\u007f","html":"</script><!--"}',
  ],
  ["line and paragraph separators", '{"ls":"\\u2028","ps":"\\u2029","raw":"a\u2028b\u2029c"}'],
  [
    "number spellings",
    '{"one":1.0,"negative_zero":-0,"exponent":1E2,"fraction":0.1,"small":1e-7,"large":1e21}',
  ],
  ["key order, integer-like keys too", '{"z":1,"a":{"y":1,"b":2},"10":"ten","2":"two","m":[{"k":1,"c":2}]}'],
  ["empty object", "{}"],
];

describe("a PayFlow-style Express receiver verifies Herald's hmac-sha256-hex deliveries", () => {
  // The receiver is the scenario here: the seed's own Express code, not the fixture's receiver.
  const scene = useHerald();
  let receiver: Awaited<ReturnType<typeof payflowReceiver>>;
  let merchant: string;
  let secret = "";

  beforeAll(async () => {
    const { herald } = scene;
    receiver = await payflowReceiver(() => secret, "x-signature");
    merchant = await createMerchant(herald, "PayFlow merchant");
    const endpoint = await createEndpoint(herald, merchant, {
      url: receiver.url,
      signature_scheme: "hmac-sha256-hex",
    });
    secret = endpoint.secret;
  });
  afterAll(() => receiver?.close());

  for (const [name, data] of payloads) {
    it(`${name}: verifies, and the attempt log shows the exact bytes received`, async () => {
      const { herald } = scene;
      const emitted = await herald.api(
        "POST",
        `/v1/merchants/${merchant}/events`,
        `{"type":"payment.succeeded","mode":"test","data":${data}}`,
      );
      expect(emitted.status).toBe(202);

      const got = await eventually(async () => receiver.received.find((r) => r.body.id === emitted.body.id));
      expect(got.verified).toBe(true);
      // As JSON, since `-0` reaches the receiver as `0`: the bytes are what JSON.stringify writes.
      expect(JSON.stringify(got.body.data)).toBe(JSON.stringify(JSON.parse(data)));
      expect(got.raw).toBe(
        JSON.stringify({
          id: emitted.body.id,
          type: "payment.succeeded",
          created_at: emitted.body.created_at,
          data: JSON.parse(data),
        }),
      );
      expect(got.signature).toBe(createHmac("sha256", secret).update(got.raw).digest("hex"));

      const delivery = await eventually(async () => {
        const list = await herald.api(
          "GET",
          `/v1/merchants/${merchant}/deliveries?event_id=${emitted.body.id}`,
        );
        const id = list.body.data[0]?.id;
        const answer = id && (await herald.api("GET", `/v1/merchants/${merchant}/deliveries/${id}`));
        return answer?.body.status === "succeeded" ? answer.body : undefined;
      });
      expect(delivery.attempts).toHaveLength(1);
      expect(delivery.attempts[0].response_status).toBe(200);
      expect(delivery.attempts[0].request.body).toBe(got.raw);
      expect(delivery.attempts[0].request.headers["x-signature"]).toBe(got.signature);

      const stored = await herald.api("GET", `/v1/merchants/${merchant}/events/${emitted.body.id}`);
      expect(JSON.stringify(stored.body.data)).toBe(JSON.stringify(got.body.data));
    });
  }
});

describe("a deployment keeps the signature header its merchants already verify", () => {
  const scene = useHerald({ env: { HERALD_SIGNATURE_HEADER: "X-PayFlow-Signature" } });

  it("HERALD_SIGNATURE_HEADER renames the hex signature header", async () => {
    const { herald } = scene;
    let secret = "";
    const receiver = await payflowReceiver(() => secret, "x-payflow-signature");
    try {
      const merchant = await createMerchant(herald);
      secret = (
        await createEndpoint(herald, merchant, { url: receiver.url, signature_scheme: "hmac-sha256-hex" })
      ).secret;
      const emitted = await herald.api("POST", `/v1/merchants/${merchant}/events`, {
        type: "payment.succeeded",
        mode: "test",
        data: { amount: 2500, currency: "PKR" },
      });

      const got = await eventually(async () => receiver.received.find((r) => r.body.id === emitted.body.id));
      expect(got.verified).toBe(true);
      expect(got.signature).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await receiver.close();
    }
  });
});
