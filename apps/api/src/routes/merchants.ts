import {
  countHttpEndpoints,
  createMerchant,
  deleteMerchant,
  getMerchant,
  listMerchants,
  updateMerchant,
} from "@herald/db";
import { Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { adminOnly, forgetMerchant } from "../auth.ts";
import { HttpProblem, notFound } from "../problems.ts";
import { findProfile, ProfileName, storedProfileName } from "../profile-names.ts";
import { answers, listOf, MerchantParams, Metadata, NoContent, PageQuery, Text } from "../schemas.ts";
import { MerchantObject, merchantView } from "../views.ts";

const Name = Text({ minLength: 1, maxLength: 200 });
const Profile = Type.Optional({
  ...ProfileName,
  description: "The delivery profile of its endpoints that name none; `default` when absent.",
});

/** Merchants: the tenants. Admin key only. */
export async function merchantRoutes(app: HeraldApp) {
  const { db, config } = app.herald;
  app.addHook("onRoute", adminOnly);

  /** The profile a merchant is given, checked: it must exist. */
  async function profileFor(name: string) {
    const profile = await findProfile(db, config, name);
    if (!profile) throw new HttpProblem("validation", `No profile named ${name}.`, "profile");
    return profile;
  }

  app.post(
    "/v1/merchants",
    {
      schema: {
        tags: ["merchants"],
        summary: "Create a merchant",
        body: Type.Object(
          { name: Name, metadata: Type.Optional(Metadata), profile: Profile },
          { additionalProperties: false },
        ),
        response: answers({ 201: MerchantObject }),
      },
    },
    async (request, reply) => {
      const { profile } = request.body;
      if (profile !== undefined) await profileFor(profile);
      const merchant = await createMerchant(db, {
        name: request.body.name,
        metadata: request.body.metadata ?? {},
        profile: profile === undefined ? null : storedProfileName(profile),
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
        limit: request.query.limit,
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
        description:
          "`metadata`, when given, replaces the whole map. A new `profile` applies from the next attempt of each endpoint that names none; it is refused while such a test-mode endpoint has an http URL the profile would not deliver to.",
        params: MerchantParams,
        body: Type.Object(
          { name: Type.Optional(Name), metadata: Type.Optional(Metadata), profile: Profile },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: answers({ 200: MerchantObject }),
      },
    },
    async (request) => {
      const { profile, ...rest } = request.body;
      if (profile !== undefined && !(await profileFor(profile)).allow_http.test) {
        const http = await countHttpEndpoints(db, null, "test", request.scope.merchantId);
        if (http > 0)
          throw new HttpProblem(
            "conflict",
            `The ${profile} profile delivers to https only; ${http} test-mode endpoint(s) have http URLs.`,
            "profile",
          );
      }
      const merchant = await updateMerchant(db, request.scope.merchantId, {
        ...rest,
        ...(profile !== undefined && { profile: storedProfileName(profile) }),
      });
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
          "Soft: revokes its keys, disables its endpoints and cancels its pending deliveries (an attempt already under way is recorded, and leaves them cancelled); its events and attempts stay until retention removes them.",
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
