import { createMerchant, deleteMerchant, getMerchant, listMerchants, updateMerchant } from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { adminOnly, forgetMerchant } from "../auth.ts";
import { notFound } from "../problems.ts";
import { answers, listOf, MerchantParams, Metadata, NoContent, PageQuery, Text } from "../schemas.ts";
import { MerchantObject, merchantView } from "../views.ts";

const Name = Text({ minLength: 1, maxLength: 200 });

/** Merchants: the tenants. Admin key only. */
export async function merchantRoutes(app: HeraldApp) {
  const { db } = app.herald;
  app.addHook("onRoute", adminOnly);

  app.post(
    "/v1/merchants",
    {
      schema: {
        tags: ["merchants"],
        summary: "Create a merchant",
        body: Type.Object({ name: Name, metadata: Type.Optional(Metadata) }, { additionalProperties: false }),
        response: answers({ 201: MerchantObject }),
      },
    },
    async (request, reply) => {
      const merchant = await createMerchant(db, {
        name: request.body.name,
        metadata: request.body.metadata ?? {},
      });
      return reply.code(201).send(merchantView(merchant));
    },
  );

  app.get(
    "/v1/merchants",
    {
      schema: {
        tags: ["merchants"],
        summary: "List merchants",
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: answers({ 200: listOf(MerchantObject) }),
      },
    },
    async (request) => {
      const page = await listMerchants(db, {
        limit: request.query.limit ?? 20,
        cursor: request.query.cursor,
      });
      return { data: page.data.map(merchantView), next_cursor: page.next_cursor };
    },
  );

  app.get(
    "/v1/merchants/:mid",
    {
      schema: {
        tags: ["merchants"],
        summary: "Get a merchant",
        params: MerchantParams,
        response: answers({ 200: MerchantObject }),
      },
    },
    async (request) => {
      const merchant = await getMerchant(db, request.scope.merchantId);
      if (!merchant) throw notFound("merchant");
      return merchantView(merchant);
    },
  );

  app.patch(
    "/v1/merchants/:mid",
    {
      schema: {
        tags: ["merchants"],
        summary: "Update a merchant",
        description: "`metadata`, when given, replaces the whole map.",
        params: MerchantParams,
        body: Type.Object(
          { name: Type.Optional(Name), metadata: Type.Optional(Metadata) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: answers({ 200: MerchantObject }),
      },
    },
    async (request) => {
      const merchant = await updateMerchant(db, request.scope.merchantId, request.body);
      if (!merchant) throw notFound("merchant");
      return merchantView(merchant);
    },
  );

  app.delete(
    "/v1/merchants/:mid",
    {
      schema: {
        tags: ["merchants"],
        summary: "Delete a merchant",
        description:
          "Soft: revokes its keys, disables its endpoints and cancels its pending deliveries; its events and attempts stay until retention removes them.",
        params: MerchantParams,
        response: answers({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      forgetMerchant(request.scope.merchantId);
      if (!(await deleteMerchant(db, request.scope.merchantId))) throw notFound("merchant");
      return reply.code(204).send(null);
    },
  );
}
