import {
  type DeliveryProfile,
  defaultProfile,
  defaultProfileName,
  effectiveProfile,
  isReservedHeader,
  type ProfileSettings,
  profileProblem,
  signatureSchemes,
  timestampFormats,
} from "@herald/core";
import { countHttpEndpoints, createProfile, listProfiles, updateProfile } from "@herald/db";
import { type Static, Type } from "typebox";
import type { HeraldApp } from "../app.ts";
import { adminOnly } from "../auth.ts";
import { HttpProblem, notFound } from "../problems.ts";
import { findProfile, ProfileName } from "../profile-names.ts";
import { answers, OneOf, Text } from "../schemas.ts";
import { EndpointObject } from "../views.ts";

const RetryPolicy = EndpointObject.properties.retry_policy;

const Envelope = Type.Object(
  {
    type_field: Type.String({
      pattern: "^[A-Za-z_][A-Za-z0-9_]{0,31}$",
      description:
        "What the event type is called in the body: `type` (Herald's), `event` (seeds 001 and 004), …",
    }),
    id: Type.Boolean({ description: "Whether the body carries the event `id`." }),
    created_at: Type.Boolean({ description: "Whether the body carries `created_at`." }),
    timestamp_format: OneOf(timestampFormats, {
      description:
        "`iso`: `2026-01-15T10:30:00.123Z`; `iso-seconds`: `2026-01-15T10:30:00Z`; `unix`: seconds, a number.",
    }),
  },
  {
    additionalProperties: false,
    description:
      "The body is exactly `JSON.stringify` of {id?, <type_field>, created_at?, data}, in that key order.",
  },
);

const PerMode = <T extends Parameters<typeof Type.Object>[0][string]>(schema: T, description: string) =>
  Type.Object({ live: schema, test: schema }, { additionalProperties: false, description });

const settingsFields = {
  description: Text({ maxLength: 1024 }),
  envelope: Envelope,
  signature_scheme: OneOf(signatureSchemes, { description: "The scheme of new endpoints that name none." }),
  signature_header: Type.String({
    pattern: "^[A-Za-z0-9-]{1,64}$",
    description: "The header the hex schemes sign in (sent lower-case). `standard` uses `webhook-signature`.",
  }),
  success_rule: OneOf(["2xx", "200"], { description: "Which responses count as delivered." }),
  retry_policy: PerMode(RetryPolicy, "The retry policy of new endpoints that name none, by mode."),
  allow_http: PerMode(
    Type.Boolean(),
    "Whether an endpoint of that mode may have an http URL. `live` must be false: live is always https.",
  ),
  timeout_ms: Type.Integer({
    minimum: 1000,
    maximum: 30000,
    description: "For new endpoints that name none.",
  }),
};

export const ProfileObject = Type.Object({
  name: Type.String(),
  ...settingsFields,
  builtin: Type.Boolean({
    description: "True for `default`, which the deployment's environment sets and the API cannot change.",
  }),
});

const optionalSettings = {
  description: Type.Optional(settingsFields.description),
  envelope: Type.Optional(Type.Partial(Envelope, { additionalProperties: false })),
  signature_scheme: Type.Optional(settingsFields.signature_scheme),
  signature_header: Type.Optional(settingsFields.signature_header),
  success_rule: Type.Optional(settingsFields.success_rule),
  retry_policy: Type.Optional(Type.Partial(settingsFields.retry_policy, { additionalProperties: false })),
  allow_http: Type.Optional(Type.Partial(settingsFields.allow_http, { additionalProperties: false })),
  timeout_ms: Type.Optional(settingsFields.timeout_ms),
};

const CreateBody = Type.Object(
  { name: ProfileName, ...optionalSettings },
  {
    additionalProperties: false,
    description: "Fields left out take the built-in default profile's values; nested objects merge.",
  },
);
const PatchBody = Type.Object(optionalSettings, { additionalProperties: false, minProperties: 1 });
type SettingsPatch = Static<typeof PatchBody>;

const Params = Type.Object({ name: Type.String({ maxLength: 64 }) });

const profileView = (p: DeliveryProfile): Static<typeof ProfileObject> => ({
  ...(p as Static<typeof ProfileObject>),
  builtin: p.name === defaultProfileName,
});

/** `base` with `patch` laid over it, one level deep for the nested objects. */
function merged(base: ProfileSettings, patch: SettingsPatch): ProfileSettings {
  const next = {
    ...base,
    ...patch,
    envelope: { ...base.envelope, ...patch.envelope },
    retry_policy: { ...base.retry_policy, ...patch.retry_policy },
    allow_http: { ...base.allow_http, ...patch.allow_http },
  } as ProfileSettings;
  next.signature_header = next.signature_header.toLowerCase();
  const problem =
    profileProblem(next) ??
    (isReservedHeader(next.signature_header, "")
      ? {
          field: "signature_header",
          detail: `signature_header "${next.signature_header}" is one Herald sets itself.`,
        }
      : null);
  if (problem) throw new HttpProblem("validation", problem.detail, problem.field);
  return next;
}

function settingsOf(profile: DeliveryProfile): ProfileSettings {
  const { name: _, ...settings } = profile;
  return settings;
}

/** Delivery profiles: the webhook dialects one deployment speaks. Admin key only. */
export async function profileRoutes(app: HeraldApp) {
  const { db, config } = app.herald;
  app.addHook("onRoute", adminOnly);

  app.post(
    "/v1/profiles",
    {
      schema: {
        tags: ["profiles"],
        summary: "Create a delivery profile",
        description:
          "A provider's dialect: envelope shape, hex signature header, success rule, and the defaults of new endpoints. docs/profiles.md has one ready per seed.",
        body: CreateBody,
        response: answers({ 201: ProfileObject }),
      },
    },
    async (request, reply) => {
      const { name, ...patch } = request.body;
      if (name === defaultProfileName)
        throw new HttpProblem("conflict", "default is the built-in profile.", "name");
      const settings = merged(settingsOf(defaultProfile(config)), patch);
      if (!patch.description) settings.description = "";
      const created = await createProfile(db, name, settings);
      if (!created) throw new HttpProblem("conflict", `A profile named ${name} exists already.`, "name");
      return reply
        .code(201)
        .send(profileView(effectiveProfile(created.name, created.settings, defaultProfile(config))));
    },
  );

  app.get(
    "/v1/profiles",
    {
      schema: {
        tags: ["profiles"],
        summary: "List delivery profiles",
        description: "The built-in `default` first, then the stored ones by name.",
        response: answers({
          200: Type.Object({ data: Type.Array(ProfileObject), next_cursor: Type.Null() }),
        }),
      },
    },
    async () => {
      const fallback = defaultProfile(config);
      const stored = await listProfiles(db);
      return {
        data: [fallback, ...stored.map((p) => effectiveProfile(p.name, p.settings, fallback))].map(
          profileView,
        ),
        next_cursor: null,
      };
    },
  );

  app.get(
    "/v1/profiles/:name",
    {
      schema: {
        tags: ["profiles"],
        summary: "Get a delivery profile",
        params: Params,
        response: answers({ 200: ProfileObject }),
      },
    },
    async (request) => {
      const profile = await findProfile(db, config, request.params.name);
      if (!profile) throw notFound("profile");
      return profileView(profile);
    },
  );

  app.patch(
    "/v1/profiles/:name",
    {
      schema: {
        tags: ["profiles"],
        summary: "Update a delivery profile",
        description:
          "Only the fields given change; nested objects merge. Takes effect on the next attempt of every endpoint using it (shape, header, success rule); the defaults apply to endpoints registered afterwards. Requiring https is refused while endpoints using the profile have http URLs.",
        params: Params,
        body: PatchBody,
        response: answers({ 200: ProfileObject }),
      },
    },
    async (request) => {
      const { name } = request.params;
      if (name === defaultProfileName)
        throw new HttpProblem(
          "conflict",
          "default is built in: HERALD_SIGNATURE_HEADER and HERALD_SUCCESS_STATUS set it.",
        );
      const current = await findProfile(db, config, name);
      if (!current) throw notFound("profile");
      const next = merged(settingsOf(current), request.body);
      if (current.allow_http.test && !next.allow_http.test) {
        const http = await countHttpEndpoints(db, name, "test");
        if (http > 0)
          throw new HttpProblem(
            "conflict",
            `${http} test-mode endpoint(s) using this profile have http URLs; move them to https first.`,
            "allow_http.test",
          );
      }
      const updated = await updateProfile(db, name, () => next);
      if (!updated) throw notFound("profile");
      return profileView(effectiveProfile(updated.name, updated.settings, defaultProfile(config)));
    },
  );
}
