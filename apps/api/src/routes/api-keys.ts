import { isId } from "@herald/core";
import { createApiKey, listApiKeys, revokeApiKey } from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { adminOnly } from "../auth.ts";
import { notFound } from "../problems.ts";
import { answers, listOf, MerchantParams, Mode, NoContent, PageQuery, PathId } from "../schemas.ts";
import { ApiKeyObject, apiKeyView } from "../views.ts";

/** A merchant's API keys: each bound to live or test mode, shown once, stored hashed. Admin only. */
export async function apiKeyRoutes(app: HeraldApp) {
  const { db } = app.herald;
  app.addHook("onRoute", adminOnly);

  app.post(
    "/v1/merchants/:mid/api-keys",
    {
      schema: {
        tags: ["api keys"],
        summary: "Create a merchant API key",
        description:
          "A live key sees and writes only live-mode data, a test key only test-mode data. The answer is the only time the key is shown.",
        params: MerchantParams,
        body: Type.Object({ mode: Mode }, { additionalProperties: false }),
        response: answers({
          201: Type.Object({ ...ApiKeyObject.properties, key: Type.String({ description: "Shown once." }) }),
        }),
      },
    },
    async (request, reply) => {
      const { row, key } = await createApiKey(db, request.scope.merchantId, request.body.mode);
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
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: answers({ 200: listOf(ApiKeyObject) }),
      },
    },
    async (request) => {
      const page = await listApiKeys(db, request.scope.merchantId, {
        limit: request.query.limit,
        cursor: request.query.cursor,
      });
      return { data: page.data.map(apiKeyView), next_cursor: page.next_cursor };
    },
  );

  app.delete(
    "/v1/merchants/:mid/api-keys/:kid",
    {
      schema: {
        tags: ["api keys"],
        summary: "Revoke an API key",
        description: "The key stops working at once.",
        params: Type.Object({ mid: PathId, kid: PathId }),
        response: answers({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const { kid } = request.params;
      if (!isId("apiKey", kid) || !(await revokeApiKey(db, request.scope.merchantId, kid)))
        throw notFound("API key");
      return reply.code(204).send(null);
    },
  );
}
