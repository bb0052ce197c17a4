import { nominalOffsets } from "@herald/core";
import type { HeraldApp } from "../app.ts";
import { RetryPolicyList } from "../schemas.ts";

/** The named retry schedules as published, for people and SDKs: no key needed. */
export async function retryPolicyRoutes(app: HeraldApp) {
  app.get(
    "/v1/retry-policies",
    {
      schema: {
        tags: ["operations"],
        summary: "Every named retry schedule",
        description:
          "Offsets in seconds after the first attempt; exponential shows its nominal times (each delay gets ±10 % jitter).",
        response: { 200: RetryPolicyList },
      },
    },
    async () => ({
      data: (["live", "test", "exponential"] as const).map((name) => {
        const offsets = nominalOffsets(name).map((ms) => ms / 1000);
        return { name, attempts: offsets.length, offsets_seconds: offsets, window_seconds: offsets.at(-1) };
      }),
    }),
  );
}
