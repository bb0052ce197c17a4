import type { Logger } from "@herald/config";
import pg from "pg";

export interface Listener {
  end(): Promise<void>;
}

/**
 * One connection LISTENing on `channel`, calling `onNotify` with each payload. It comes back by
 * itself after Postgres restarts (`onBack` is then called: what was announced meanwhile reached no
 * one); until then the caller falls back on polling.
 */
export async function listen(
  url: string,
  channel: string,
  handlers: { onNotify(payload: string): void; onBack(): void },
  log: Logger,
  applicationName = "herald-listen",
): Promise<Listener> {
  let client: pg.Client | undefined;
  let ended = false;
  let retry: NodeJS.Timeout | undefined;
  // Said once per outage, not on every reconnection attempt.
  let lostSince: number | undefined;

  const reconnectSoon = () => {
    if (ended || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, 1000);
  };

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, application_name: applicationName, keepAlive: true });
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (client === next) client = undefined;
      if (!ended && lostSince === undefined) {
        lostSince = Date.now();
        log.warn({ err: error, channel }, "LISTEN connection lost; polling until it is back");
      }
      next.end().catch(() => {});
      reconnectSoon();
    };
    next.on("notification", (message) => handlers.onNotify(message.payload ?? ""));
    next.on("error", onLost);
    next.on("end", () => onLost());
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
    } catch (error) {
      onLost(error);
      return;
    }
    if (ended) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    if (lostSince !== undefined) {
      log.info({ down_ms: Date.now() - lostSince, channel }, "LISTEN connection back");
      lostSince = undefined;
    }
    handlers.onBack();
  };

  await connect();
  return {
    end: async () => {
      ended = true;
      clearTimeout(retry);
      await client?.end();
    },
  };
}
