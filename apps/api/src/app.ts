import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AjvCompiler, type RouteDefinition } from "@fastify/ajv-compiler";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Config, type Logger, version } from "@herald/config";
import { type Cidr, parseTimestamp } from "@herald/core";
import type { Db } from "@herald/db";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
  type RawServerDefault,
} from "fastify";
import type pg from "pg";
import type { PgBoss } from "pg-boss";
import { authorize } from "./auth.ts";
import { finishDocument } from "./openapi.ts";
import { HttpProblem, sendProblem, toProblem } from "./problems.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { attemptRoutes } from "./routes/attempts.ts";
import { deliveryRoutes } from "./routes/deliveries.ts";
import { endpointRoutes } from "./routes/endpoints.ts";
import { eventTypeRoutes } from "./routes/event-types.ts";
import { eventRoutes } from "./routes/events.ts";
import { healthRoutes } from "./routes/health.ts";
import { merchantRoutes } from "./routes/merchants.ts";
import { operationRoutes } from "./routes/operations.ts";
import { operatorEndpointRoutes } from "./routes/operator-endpoints.ts";
import { portalSessionRoutes } from "./routes/portal-sessions.ts";
import { profileRoutes } from "./routes/profiles.ts";
import { recoveryRoutes } from "./routes/recovery.ts";
import { relayRoutes } from "./routes/relay.ts";
import { retryPolicyRoutes } from "./routes/retry-policies.ts";
import { statsRoutes } from "./routes/stats.ts";
import { testEventRoutes } from "./routes/test-events.ts";
import { NoQuery, Problem } from "./schemas.ts";
import { dashboardRoutes } from "./ui/index.ts";

const asset = (name: string) => readFileSync(new URL(`../assets/${name}`, import.meta.url));

/** What every route reaches for: set once when the app is built. */
export interface HeraldContext {
  config: Config;
  db: Db;
  /** On the hot path's pool (statements prepared once per connection): for emits. */
  hotDb: Db;
  pool: pg.Pool;
  boss: PgBoss;
  allowedCidrs: Cidr[];
  encryptionKey: Buffer;
  adminKey: string;
  /** Wakes the dispatchers: call after committing jobs that are runnable now. */
  announce: () => void;
}

declare module "fastify" {
  interface FastifyInstance {
    herald: HeraldContext;
  }
}

export type HeraldApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

type RoutePlugin = (app: HeraldApp) => Promise<void>;
const resources: RoutePlugin[] = [
  merchantRoutes,
  profileRoutes,
  apiKeyRoutes,
  endpointRoutes,
  eventRoutes,
  eventTypeRoutes,
  deliveryRoutes,
  attemptRoutes,
  recoveryRoutes,
  operationRoutes,
  testEventRoutes,
  statsRoutes,
  relayRoutes,
  portalSessionRoutes,
  operatorEndpointRoutes,
];

const buildAjv = AjvCompiler();

/**
 * Query strings and path segments are text, so "20" has to become 20 there; a JSON body carries its
 * own types, and a wrong one is refused rather than guessed at.
 */
const buildValidator: typeof buildAjv = (schemas, options) => {
  const text = buildAjv(schemas, options) as unknown as RouteCompiler;
  const customOptions = { ...options?.customOptions, coerceTypes: false };
  const json = buildAjv(schemas, { ...options, mode: undefined, customOptions }) as unknown as RouteCompiler;
  const byPart: RouteCompiler = (route) => (route.httpPart === "body" ? json : text)(route);
  return byPart as unknown as Compiler;
};

// @fastify/ajv-compiler's types say its compiler takes a schema; at run time it takes the route
// definition (the schema and which part of the request it checks), as Fastify calls it.
type Compiler = ReturnType<typeof buildAjv>;
type RouteCompiler = (route: RouteDefinition) => ReturnType<Compiler>;

/** Everything under /v1/ needs a key, except the published retry schedules. */
const needsKey = (url: string) => url.startsWith("/v1/") && !url.startsWith("/v1/retry-policies");

export async function buildApp(context: HeraldContext, log: Logger): Promise<HeraldApp> {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: context.config.maxPayloadBytes,
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: "request_id" }),
    // Unknown fields are refused, not silently dropped: a typo must not lose a setting.
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true },
      // Every date-time a request carries must be one Herald can store and compare: RFC 3339 alone
      // lets through leap seconds and year 0000 (packages/core/src/timestamps.ts).
      onCreate: (ajv) => ajv.addFormat("date-time", (text: string) => parseTimestamp(text) !== undefined),
    },
    schemaController: { compilersFactory: { buildValidator } },
    // A path that cannot even be routed answers problem+json like everything else.
    frameworkErrors: (error, request, reply) => sendProblem(reply, toProblem(error, request)),
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate("herald", context);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Herald",
        version,
        description:
          "Webhook delivery: signed, retried, logged. Every error is `application/problem+json` naming the `field` at fault.",
        license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      },
      // Relative: the Herald that serves this document, whatever name it is reached by.
      servers: [{ url: "/", description: "The Herald serving this document" }],
      tags: [
        { name: "merchants", description: "The tenants: each has its own keys, endpoints and events." },
        { name: "api-keys", description: "A merchant's live and test keys." },
        { name: "endpoints", description: "Where a merchant's events go, how they are signed and retried." },
        { name: "events", description: "What a provider's services emit; each fans out to deliveries." },
        { name: "deliveries", description: "One event to one endpoint, with its attempts." },
        { name: "recovery", description: "Sending again: retries, re-sends and recover operations." },
        {
          name: "operator endpoints",
          description: "Operational webhooks: the provider hears of merchants' endpoints in trouble.",
        },
        { name: "stats", description: "Delivery statistics." },
        { name: "operations", description: "Health, readiness, metrics and the published schedules." },
      ],
      components: {
        securitySchemes: {
          adminKey: { type: "http", scheme: "bearer", description: "The provider's HERALD_ADMIN_KEY." },
          merchantKey: {
            type: "http",
            scheme: "bearer",
            description: "A merchant's hk_live_ or hk_test_ key.",
          },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    // Who may call each route, from the same rules the auth hook applies.
    transform: ({ schema, url, route }) => {
      const admin = { adminKey: [] };
      const security = !needsKey(url) ? [] : route.config?.adminOnly ? [admin] : [admin, { merchantKey: [] }];
      return { url, schema: { ...schema, security } };
    },
    transformObject: (document) => finishDocument((document as { openapiObject: object }).openapiObject),
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: "/docs",
    logo: { type: "image/svg+xml", content: asset("herald.svg"), href: "/docs", target: "_self" },
    theme: {
      title: "Herald API reference",
      favicon: [
        {
          filename: "favicon.svg",
          rel: "icon",
          sizes: "any",
          type: "image/svg+xml",
          content: asset("favicon.svg"),
        },
      ],
    },
  });
  app.addSchema(Problem);
  // Unknown query parameters are refused like unknown body fields, also where a route takes none.
  app.addHook("onRoute", (route) => {
    if (route.url.startsWith("/v1/") && !route.schema?.querystring)
      route.schema = { ...route.schema, querystring: NoQuery };
  });

  // What reaches here is thrown by Fastify or by Herald's own code, FastifyError-shaped either way.
  app.setErrorHandler<FastifyError>((error, request, reply) => sendProblem(reply, toProblem(error, request)));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new HttpProblem("not_found", `No route ${request.method} ${request.url.split("?")[0]}.`).problem,
    ),
  );
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    if (needsKey(request.url)) await authorize(request, context.db, context.adminKey);
  });

  await app.register(async (scope) => healthRoutes(scope.withTypeProvider<TypeBoxTypeProvider>()));
  await app.register(async (scope) => retryPolicyRoutes(scope.withTypeProvider<TypeBoxTypeProvider>()));
  for (const routes of resources) {
    await app.register(async (scope) => routes(scope.withTypeProvider<TypeBoxTypeProvider>()));
  }
  await app.register(async (scope) => dashboardRoutes(scope.withTypeProvider<TypeBoxTypeProvider>()), {
    prefix: "/ui",
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  return app;
}
