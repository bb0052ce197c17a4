import crypto from "node:crypto";
import express, { type Express } from "express";
import type { ReceiverConsole } from "../harness.ts";

/**
 * Seed 004 (Startbutton): the `x-startbutton-signature` header, "a HMAC SHA512 signature of the
 * event payload signed using your secret key", verified before processing, then 200 at once. The
 * seed's sample code did not survive in the document; this is the usual form of that sample
 * (`JSON.stringify(req.body)`, `==`), with the failure logged.
 */
export function startbutton(
  app: Express,
  consoleOf: (req: express.Request) => ReceiverConsole,
  secret: () => string,
): void {
  app.use(express.json());
  app.post("/webhook/startbutton", (req, res) => {
    const console = consoleOf(req);
    //validate event
    const hash = crypto.createHmac("sha512", secret()).update(JSON.stringify(req.body)).digest("hex");
    // biome-ignore lint/suspicious/noDoubleEquals: the seed's sample compares with ==, kept as written
    if (hash == req.headers["x-startbutton-signature"]) {
      // Retrieve the request's body
      const event = req.body;
      // Do something with event
      console.log("Startbutton event", event.event, event.data.transaction?.status ?? "");
    } else {
      console.error("Startbutton signature mismatch");
    }
    res.sendStatus(200);
  });
}
