import { isId } from "@herald/core";
import { createApiKey, listApiKeys, revokeApiKey } from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { merchantScope, requireAdmin } from "../auth.ts";
import { notFound } from "../problems.ts";
import { MerchantParams, Mode } from "../schemas.ts";
import { apiKeyView } from "../views.ts";

/** A merchant's API keys: each bound to live or test mode, shown once, stored hashed. Admin only. */
export async function apiKeyRoutes(app: HeraldApp) {
  const { db } = app.herald;
  app.addHook("onRequest", async (request) => requireAdmin(request));

  app.post(
    "/v1/merchants/:mid/api-keys",
    {
      schema: {
        tags: ["api keys"],
        summary: "Create a merchant API key",
        description: "The answer is the only time the key is shown.",
        params: MerchantParams,
        body: Type.Object({ mode: Mode }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const scope = await merchantScope(request, db, request.params.mid);
      const { row, key } = await createApiKey(db, scope.merchantId, request.body.mode);
      return reply.code(201).send({ ...apiKeyView(row), key });
    },
  );

  app.get(
    "/v1/merchants/:mid/api-keys",
    {
      schema: {
        tags: ["api keys"],
        summary: "List a merchant's API keys (prefix and last 4 only)",
        params: MerchantParams,
      },
    },
    async (request) => {
      const scope = await merchantScope(request, db, request.params.mid);
      return { data: (await listApiKeys(db, scope.merchantId)).map(apiKeyView), next_cursor: null };
    },
  );

  app.delete(
    "/v1/merchants/:mid/api-keys/:kid",
    {
      schema: {
        tags: ["api keys"],
        summary: "Revoke an API key",
        params: Type.Object({ mid: Type.String({ maxLength: 64 }), kid: Type.String({ maxLength: 64 }) }),
      },
    },
    async (request, reply) => {
      const scope = await merchantScope(request, db, request.params.mid);
      if (
        !isId("apiKey", request.params.kid) ||
        !(await revokeApiKey(db, scope.merchantId, request.params.kid))
      ) {
        throw notFound("API key");
      }
      return reply.code(204).send();
    },
  );
}
