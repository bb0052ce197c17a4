import { type Config, createLogger, type Logger } from "@herald/config";
import { parseCidrs } from "@herald/core";
import {
  attemptAnnouncer,
  checkEncryptionKey,
  connect,
  migrate,
  scheduleRetention,
  startQueue,
} from "@herald/db";
import { startDispatcher } from "@herald/dispatcher";
import { collectDefaultMetrics, register } from "prom-client";
import { serveMetrics } from "./metrics-server.ts";

export interface HeraldOptions {
  config: Config;
  /** The process's logger, when its entry point made one; else one named for the roles. */
  log?: Logger;
  databaseUrl: string;
  adminKey: string;
  encryptionKey: Buffer;
  /** Which roles this process plays: the API, the dispatcher, or both (the all-in-one). */
  api: boolean;
  dispatcher: boolean;
}

export interface Herald {
  /** The API's base URL, when this process serves it. */
  url: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts one Herald process: migrates, opens the pool and the queue, then serves the API and/or
 * runs the dispatcher. `stop()` drains in-flight attempts before closing anything.
 */
export async function startHerald(options: HeraldOptions): Promise<Herald> {
  const { config } = options;
  const role =
    options.api && options.dispatcher ? "herald" : options.api ? "herald-api" : "herald-dispatcher";
  const log = options.log ?? createLogger(config.logLevel, role);
  // Process figures (RSS, CPU, event loop lag), once per process however many Heralds it runs.
  if (!register.getSingleMetric("process_resident_memory_bytes")) collectDefaultMetrics();
  const allowedCidrs = parseCidrs(config.allowedCidrs);
  // What has been started so far, stopped in reverse order: by stop(), or at once when a later
  // step fails (port in use, database gone), so a failed start leaves nothing running.
  const started: (() => Promise<unknown>)[] = [];
  const stopStarted = async () => {
    for (const stop of started.reverse()) await stop().catch(() => {});
    started.length = 0;
  };
  try {
    const connection = connect(options.databaseUrl, { max: 20, applicationName: role });
    started.push(() => connection.close());
    await migrate(connection.pool);
    await checkEncryptionKey(connection.db, options.encryptionKey);
    // The dispatcher supervises the queue (re-runs attempts whose dispatcher died); a lone API need not.
    // The hot path's pool: pg-boss, emits, fetches and recordings, their statements planned once.
    const hot = connect(options.databaseUrl, {
      max: 10,
      applicationName: `${role}-hot`,
      preparedStatements: true,
    });
    started.push(() => hot.close());
    const boss = await startQueue(options.databaseUrl, { supervise: options.dispatcher, pool: hot.pool });
    started.push(() => boss.stop({ graceful: false, close: true }));

    if (options.dispatcher) {
      const dispatcher = await startDispatcher({
        config,
        db: hot.db,
        boss,
        databaseUrl: options.databaseUrl,
        allowedCidrs,
        encryptionKey: options.encryptionKey,
        log: log.child({ component: "dispatcher" }),
      });
      started.push(() => dispatcher.stop());
      await scheduleRetention(boss, connection.db, config.retentionDays, (pruned, cutoff) =>
        log.info({ ...pruned, cutoff }, "retention: pruned expired rows"),
      );
    }
    let url: string | undefined;
    // Loaded only where it runs: a dispatcher-only process is smaller without Fastify and its plugins.
    const app = options.api
      ? await (await import("@herald/api")).buildApp(
          {
            config,
            db: connection.db,
            hotDb: hot.db,
            pool: connection.pool,
            boss,
            allowedCidrs,
            encryptionKey: options.encryptionKey,
            adminKey: options.adminKey,
            announce: attemptAnnouncer(connection.pool),
          },
          log,
        )
      : undefined;
    if (app) {
      started.push(() => app.close());
      url = await app.listen({ host: config.host, port: config.port });
    }
    // A dispatcher without the API still has counters worth scraping.
    if (!app && config.metricsPort !== undefined) {
      const metricsServer = await serveMetrics(config.host, config.metricsPort);
      started.push(() => metricsServer.close());
    }
    // stop() drains in this order: the API stops taking requests, then the dispatcher finishes
    // its in-flight attempts, then the queue and the pool close.
    return { url, stop: stopStarted };
  } catch (error) {
    await stopStarted();
    throw error;
  }
}
