import crypto from "node:crypto";
import express, { type Express } from "express";
import type { ReceiverConsole } from "../harness.ts";

/**
 * Seed 001: its four steps (parse the JSON payload, verify the signature from the headers with the
 * dashboard secret, handle the event by `event`, answer 2xx) written the way the other seeds' Node
 * samples write them: `JSON.stringify(req.body)` for the HMAC and a bare `timingSafeEqual`. The seed
 * names neither header nor algorithm; its profile (docs/profiles.md) uses `x-signature`, SHA-256.
 */
export function payments001(
  app: Express,
  consoleOf: (req: express.Request) => ReceiverConsole,
  secret: () => string,
): void {
  app.use(express.json());
  app.post("/webhook", (req, res) => {
    const console = consoleOf(req);
    const signature = req.headers["x-signature"] as string;
    const expected = crypto.createHmac("sha256", secret()).update(JSON.stringify(req.body)).digest("hex");
    if (!crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
      console.error("Invalid webhook signature");
      return res.status(401).send("Invalid signature");
    }
    const { event, data } = req.body;
    switch (event) {
      case "payment.success":
      case "payment.failed":
      case "refund.processed":
      case "transfer.success":
      case "subscription.renew":
        console.log("Handled", event, data.transaction_id);
        break;
      default:
        console.log("Unhandled event", event);
    }
    res.sendStatus(200);
  });
}
