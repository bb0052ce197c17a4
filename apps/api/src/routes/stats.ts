import { type DeliveryStats, deliveryStats, merchantEndpointIds, type StatsWindow } from "@herald/db";
import { type Static, Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { HttpProblem } from "../problems.ts";
import { findEndpoint } from "../resources.ts";
import { answers, Mode, PathId, Timestamp } from "../schemas.ts";

const day = 86_400_000;
// Percentiles sort every attempt of the window; a month bounds that work.
const maxWindowDays = 31;

const WindowQuery = {
  since: Type.Optional({ ...Timestamp, description: "Defaults to 24 hours before `until`." }),
  until: Type.Optional({ ...Timestamp, description: "Defaults to now." }),
};

const Milliseconds = Type.Union([Type.Number(), Type.Null()]);

const Stats = Type.Object({
  since: Timestamp,
  until: Timestamp,
  attempts: Type.Object(
    {
      total: Type.Integer(),
      succeeded: Type.Integer(),
      failed: Type.Integer(),
      success_rate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
        description: "succeeded / total; null without attempts.",
      }),
      latency_p50_ms: Milliseconds,
      latency_p95_ms: Milliseconds,
    },
    {
      description:
        "Attempts started in the window, every trigger; latency is each attempt's duration, failures included.",
    },
  ),
  deliveries: Type.Object(
    {
      total: Type.Integer(),
      pending: Type.Integer(),
      succeeded: Type.Integer(),
      failed: Type.Integer(),
      cancelled: Type.Integer(),
    },
    { description: "Deliveries created in the window, by their status now." },
  ),
});

const EndpointStats = Type.Object({ endpoint_id: Type.String(), ...Stats.properties });
const MerchantStats = Type.Object({
  merchant_id: Type.String(),
  mode: Type.Union([Mode, Type.Null()], { description: "Null: both modes together." }),
  ...Stats.properties,
});

function statsWindow(query: { since?: string | undefined; until?: string | undefined }): StatsWindow {
  const until = query.until ? new Date(query.until) : new Date();
  const since = query.since ? new Date(query.since) : new Date(until.getTime() - day);
  if (since >= until) throw new HttpProblem("validation", "since must be before until.", "since");
  if (until.getTime() - since.getTime() > maxWindowDays * day)
    throw new HttpProblem("validation", `The window may span ${maxWindowDays} days at most.`, "since");
  return { since, until };
}

function statsView(window: StatsWindow, stats: DeliveryStats): Static<typeof Stats> {
  const { total, succeeded } = stats.attempts;
  return {
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    attempts: {
      ...stats.attempts,
      success_rate: total === 0 ? null : Math.round((succeeded / total) * 1e4) / 1e4,
    },
    deliveries: stats.deliveries,
  };
}

/** Delivery statistics: how an endpoint, or a whole merchant, has been doing. */
export async function statsRoutes(app: HeraldApp) {
  const { db } = app.herald;

  app.get(
    "/v1/merchants/:mid/endpoints/:eid/stats",
    {
      schema: {
        tags: ["endpoints"],
        summary: "An endpoint's delivery statistics",
        description: `Over a window of at most ${maxWindowDays} days, the last 24 hours by default.`,
        params: Type.Object({ mid: PathId, eid: PathId }),
        querystring: Type.Object(WindowQuery, { additionalProperties: false }),
        response: answers({ 200: EndpointStats }),
      },
    },
    async (request) => {
      const endpoint = await findEndpoint(db, request.scope, request.params.eid);
      const window = statsWindow(request.query);
      return {
        endpoint_id: endpoint.id,
        ...statsView(window, await deliveryStats(db, [endpoint.id], window)),
      };
    },
  );

  app.get(
    "/v1/merchants/:mid/stats",
    {
      schema: {
        tags: ["merchants"],
        summary: "A merchant's delivery statistics",
        description:
          `Totals over every endpoint of the merchant (deleted ones included), in one mode or both, over a window of at most ${maxWindowDays} days, ` +
          "the last 24 hours by default. A mode-bound key sees its own mode.",
        params: Type.Object({ mid: PathId }),
        querystring: Type.Object(
          { ...WindowQuery, mode: Type.Optional(Mode) },
          { additionalProperties: false },
        ),
        response: answers({ 200: MerchantStats }),
      },
    },
    async (request) => {
      const { scope } = request;
      const requested = request.query.mode;
      if (scope.mode && requested && requested !== scope.mode) {
        throw new HttpProblem(
          "forbidden",
          `A ${scope.mode}-mode key reads ${scope.mode}-mode data only.`,
          "mode",
        );
      }
      const mode = scope.mode ?? requested;
      const window = statsWindow(request.query);
      const endpointIds = await merchantEndpointIds(db, scope.merchantId, mode);
      return {
        merchant_id: scope.merchantId,
        mode: mode ?? null,
        ...statsView(window, await deliveryStats(db, endpointIds, window)),
      };
    },
  );
}
