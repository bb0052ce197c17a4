import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AjvCompiler } from "@fastify/ajv-compiler";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Config, Logger } from "@herald/config";
import { type Cidr, parseTimestamp } from "@herald/core";
import type { Db } from "@herald/db";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawServerDefault,
} from "fastify";
import type pg from "pg";
import type { PgBoss } from "pg-boss";
import { authorize } from "./auth.ts";
import { HttpProblem, sendProblem, toProblem } from "./problems.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { attemptRoutes } from "./routes/attempts.ts";
import { deliveryRoutes } from "./routes/deliveries.ts";
import { endpointRoutes } from "./routes/endpoints.ts";
import { eventTypeRoutes } from "./routes/event-types.ts";
import { eventRoutes } from "./routes/events.ts";
import { merchantRoutes } from "./routes/merchants.ts";
import { operationRoutes } from "./routes/operations.ts";
import { recoveryRoutes } from "./routes/recovery.ts";
import { statsRoutes } from "./routes/stats.ts";
import { testEventRoutes } from "./routes/test-events.ts";
import { NoQuery, Problem } from "./schemas.ts";

export const version = "0.1.0";

/** What every route reaches for: set once when the app is built. */
export interface HeraldContext {
  config: Config;
  db: Db;
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
  apiKeyRoutes,
  endpointRoutes,
  eventRoutes,
  eventTypeRoutes,
  deliveryRoutes,
  attemptRoutes,
  recoveryRoutes,
  testEventRoutes,
  statsRoutes,
];

const buildAjv = AjvCompiler();

/**
 * Query strings and path segments are text, so "20" has to become 20 there; a JSON body carries its
 * own types, and a wrong one is refused rather than guessed at.
 */
const buildValidator: typeof buildAjv = (schemas, options) => {
  const text = buildAjv(schemas, options);
  const customOptions = { ...options?.customOptions, coerceTypes: false } as never;
  const json = buildAjv(schemas, { ...options, customOptions });
  return ((route: { httpPart?: string }) =>
    (route.httpPart === "body" ? json : text)(route as never)) as never;
};

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
      info: { title: "Herald", version, description: "Webhook delivery: signed, retried, logged." },
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
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  app.addSchema(Problem);
  // Unknown query parameters are refused like unknown body fields, also where a route takes none.
  app.addHook("onRoute", (route) => {
    if (route.url.startsWith("/v1/") && !route.schema?.querystring)
      route.schema = { ...route.schema, querystring: NoQuery };
  });

  app.setErrorHandler((error, request, reply) => sendProblem(reply, toProblem(error as never, request)));
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

  await app.register(async (scope) => operationRoutes(scope.withTypeProvider<TypeBoxTypeProvider>()));
  for (const routes of resources) {
    await app.register(async (scope) => routes(scope.withTypeProvider<TypeBoxTypeProvider>()));
  }
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  return app;
}
