import express, { type Express } from "express";
import type { ReceiverConsole } from "../harness.ts";

/**
 * Seed 000 (BizFlex Africa): its Express example verbatim. The seed parses "the JSON body" without
 * showing the parser; `express.json()` is the one its readers would add. It does not verify any
 * signature, answers 200, and treats anything else as a failure.
 */
export function bizflex(app: Express, consoleOf: (req: express.Request) => ReceiverConsole): void {
  app.use(express.json());
  // Example using Express.js
  app.post("/bizflex/webhook-listener", (req, res) => {
    const console = consoleOf(req);
    // Retrieve the event data from the request body
    const event = req.body;
    // Process the event logic here
    console.log("Received BizFlex event:", event.type);
    // Always acknowledge receipt promptly
    res.sendStatus(200);
  });
}
