import { isId } from "@herald/core";
import { createMerchant, deleteMerchant, getMerchant, listMerchants, updateMerchant } from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { requireAdmin } from "../auth.ts";
import { notFound } from "../problems.ts";
import { MerchantParams, Metadata, PageQuery } from "../schemas.ts";
import { merchantView } from "../views.ts";

const Name = Type.String({ minLength: 1, maxLength: 200 });

/** Merchants: the tenants. Admin key only. */
export async function merchantRoutes(app: HeraldApp) {
  const { db } = app.herald;
  app.addHook("onRequest", async (request) => requireAdmin(request));

  app.post(
    "/v1/merchants",
    {
      schema: {
        tags: ["merchants"],
        summary: "Create a merchant",
        body: Type.Object({ name: Name, metadata: Type.Optional(Metadata) }, { additionalProperties: false }),
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
    { schema: { tags: ["merchants"], summary: "Get a merchant", params: MerchantParams } },
    async (request) => {
      const merchant = isId("merchant", request.params.mid)
        ? await getMerchant(db, request.params.mid)
        : undefined;
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
        params: MerchantParams,
        body: Type.Object(
          { name: Type.Optional(Name), metadata: Type.Optional(Metadata) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const merchant = isId("merchant", request.params.mid)
        ? await updateMerchant(db, request.params.mid, request.body)
        : undefined;
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
          "Stops its deliveries and revokes its keys; its events and attempts stay until retention removes them.",
        params: MerchantParams,
      },
    },
    async (request, reply) => {
      if (!isId("merchant", request.params.mid) || !(await deleteMerchant(db, request.params.mid)))
        throw notFound("merchant");
      return reply.code(204).send();
    },
  );
}
