import { scheduleOffsets } from "@herald/core";
import { migrationsApplied } from "@herald/db";
import type { HeraldApp } from "../app.ts";

/** Liveness, readiness and the published retry schedules: no key needed. */
export async function operationRoutes(app: HeraldApp) {
  const { pool } = app.herald;

  app.get("/healthz", { schema: { tags: ["operations"], summary: "The process is alive" } }, async () => ({
    status: "ok",
  }));

  app.get(
    "/readyz",
    { schema: { tags: ["operations"], summary: "The database is reachable and migrated" } },
    async (_request, reply) => {
      try {
        if (!(await migrationsApplied(pool))) return reply.code(503).send({ status: "migrations pending" });
        return { status: "ready" };
      } catch {
        return reply.code(503).send({ status: "database unreachable" });
      }
    },
  );

  app.get(
    "/v1/retry-policies",
    {
      schema: {
        tags: ["operations"],
        summary: "Every named retry schedule",
        description:
          "Offsets in seconds after the first attempt; exponential shows its nominal times (each delay gets ±10 % jitter).",
      },
    },
    async () => ({
      data: (["live", "test", "exponential"] as const).map((name) => {
        const offsets =
          name === "exponential" ? nominalExponential() : scheduleOffsets(name).map((ms) => ms / 1000);
        return { name, attempts: offsets.length, offsets_seconds: offsets, window_seconds: offsets.at(-1) };
      }),
    }),
  );
}

function nominalExponential(): number[] {
  const offsets = [0];
  for (let delay = 60; offsets.at(-1)! + delay < 86400; delay *= 2) offsets.push(offsets.at(-1)! + delay);
  return [...offsets, 86400];
}
