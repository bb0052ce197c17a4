import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Config, Logger } from "@herald/config";
import type { Cidr } from "@herald/core";
import type { Db } from "@herald/db";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawServerDefault,
} from "fastify";
import type pg from "pg";
import type { PgBoss } from "pg-boss";
import { authenticate } from "./auth.ts";
import { HttpProblem, sendProblem, toProblem } from "./problems.ts";
import { apiKeyRoutes } from "./routes/api-keys.ts";
import { deliveryRoutes } from "./routes/deliveries.ts";
import { endpointRoutes } from "./routes/endpoints.ts";
import { eventRoutes } from "./routes/events.ts";
import { merchantRoutes } from "./routes/merchants.ts";
import { operationRoutes } from "./routes/operations.ts";
import { Problem } from "./schemas.ts";

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
const resources: RoutePlugin[] = [merchantRoutes, apiKeyRoutes, endpointRoutes, eventRoutes, deliveryRoutes];

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
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true } },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate("herald", context);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Herald", version, description: "Webhook delivery: signed, retried, logged." },
      components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  app.addSchema(Problem);

  app.setErrorHandler((error, request, reply) => sendProblem(reply, toProblem(error as never, request)));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new HttpProblem("not_found", `No route ${request.method} ${request.url.split("?")[0]}.`).problem,
    ),
  );
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    if (request.url.startsWith("/v1/") && !request.url.startsWith("/v1/retry-policies")) {
      await authenticate(request, context.db, context.adminKey);
    }
  });

  await app.register(async (scope) => operationRoutes(scope.withTypeProvider<TypeBoxTypeProvider>()));
  for (const routes of resources) {
    await app.register(async (scope) => routes(scope.withTypeProvider<TypeBoxTypeProvider>()));
  }
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  return app;
}
