import crypto from "node:crypto";
import express, { type Express } from "express";
import type { ReceiverConsole } from "../harness.ts";

/**
 * Seed 002 (PayFlow): `verifyWebhookSignature` verbatim (no length guard: a header of another length
 * makes `timingSafeEqual` throw, which Express answers 500), called from the seed's Express handler,
 * which answers `res.json({ received: true })`. The seed names no header; its profile uses
 * `x-payflow-signature`. Served over https only: PayFlow "will not send webhooks to HTTP endpoints".
 */
export function payflow(
  app: Express,
  consoleOf: (req: express.Request) => ReceiverConsole,
  secret: () => string,
): void {
  function verifyWebhookSignature(payload: unknown, signature: string, secret: string) {
    const expectedSignature = crypto
      .createHmac("sha256", secret)
      .update(JSON.stringify(payload))
      .digest("hex");

    return crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expectedSignature));
  }

  app.use(express.json());
  // Express.js example
  app.post("/webhooks/payflow", (req, res) => {
    const console = consoleOf(req);
    const event = req.body;

    if (!verifyWebhookSignature(req.body, req.headers["x-payflow-signature"] as string, secret())) {
      console.error("PayFlow signature verification failed");
      return res.status(400).json({ error: "invalid signature" });
    }

    // Handle the webhook event
    handleWebhookEvent(event);

    // Respond with 200 to acknowledge receipt
    res.json({ received: true });

    function handleWebhookEvent(event: { id: string; type: string; created_at: string }) {
      console.log("PayFlow event", event.id, event.type, event.created_at);
    }
  });
}
