import { createPortalLink } from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { adminOnly } from "../auth.ts";
import { answers, MerchantParams, Mode, Timestamp } from "../schemas.ts";

// Long enough to hand over through a redirect or an iframe, short enough that a leaked link
// (browser history, a proxy log) is dead by the time anyone reads it.
const linkSeconds = 300;

const Body = Type.Object(
  {
    mode: Type.Optional({
      ...Mode,
      description: "Only this mode's data; by default the session can switch between live and test.",
    }),
    read_only: Type.Optional(
      Type.Boolean({ description: "The session may look but change nothing. False by default." }),
    ),
    ttl: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: 86_400,
        description: "How long the session lasts once opened, in seconds; 3600 by default.",
      }),
    ),
  },
  { additionalProperties: false },
);

const PortalLink = Type.Object({
  url: Type.String({
    description:
      "Open (or embed in an iframe) once, within `expires_at`; the one secret Herald puts in a URL.",
  }),
  expires_at: Timestamp,
  merchant_id: Type.String(),
  mode: Type.Union([Mode, Type.Null()]),
  read_only: Type.Boolean(),
  session_ttl: Type.Integer({ description: "Seconds the session lasts once the link is opened." }),
});

/** Portal sessions: one-time links that open the merchant portal for one merchant. Admin only. */
export async function portalSessionRoutes(app: HeraldApp) {
  const { db } = app.herald;
  app.addHook("onRoute", adminOnly);

  app.post(
    "/v1/merchants/:mid/portal-sessions",
    {
      schema: {
        tags: ["merchants"],
        summary: "Create a one-time merchant portal link",
        description:
          `A link to the dashboard scoped to this merchant, valid for ${linkSeconds / 60} minutes and for one visit: a reused or expired ` +
          "link is refused. The visit opens a session cookie; only hashes of the link and session tokens are stored.",
        params: MerchantParams,
        body: Type.Union([Body, Type.Null()], { description: "Optional: no body for every default." }),
        response: answers({ 201: PortalLink }),
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const grant = {
        merchantId: request.scope.merchantId,
        mode: body.mode ?? null,
        readOnly: body.read_only ?? false,
        sessionSeconds: body.ttl ?? 3600,
        linkSeconds,
      };
      const link = await createPortalLink(db, grant);
      const origin = `${request.protocol}://${request.host}`;
      return reply.code(201).send({
        url: `${origin}/ui/portal#token=${link.token}`,
        expires_at: link.expiresAt.toISOString(),
        merchant_id: grant.merchantId,
        mode: grant.mode,
        read_only: grant.readOnly,
        session_ttl: grant.sessionSeconds,
      });
    },
  );
}
