import crypto from "node:crypto";
import express, { type Express } from "express";
import type { ReceiverConsole } from "../harness.ts";

/**
 * Seed 003 ("Webhook"), its Node.js (Express) receiver: the `X-Signature` header, the HMAC-SHA256
 * of the re-serialised body, answering 400 on a bad signature and 200 otherwise. The seed's code
 * blocks did not survive in the document; this is the shape its prose describes, as the other seeds
 * write it. Its Python (Flask) twin is `003_gateway.py`.
 */
export function gateway003(
  app: Express,
  consoleOf: (req: express.Request) => ReceiverConsole,
  secret: () => string,
): void {
  app.use(express.json());
  app.post("/webhook", (req, res) => {
    const console = consoleOf(req);
    const signature = req.headers["x-signature"] as string;
    const expectedSignature = crypto
      .createHmac("sha256", secret())
      .update(JSON.stringify(req.body))
      .digest("hex");
    if (signature !== expectedSignature) {
      console.error("Invalid signature");
      return res.status(400).send("Invalid signature");
    }
    const event = req.body;
    console.log("Received event:", event.type);
    res.status(200).send("Webhook received");
  });
}
