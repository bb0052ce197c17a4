import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import {
  attemptsRecorded,
  createEndpoint,
  createMerchant,
  emit,
  settledDelivery,
  useHerald,
} from "./support/fixture.ts";

/** A TCP server on loopback that does whatever `onSocket` does: HTTP is not enough to misbehave. */
async function rawServer(
  onSocket: (socket: Socket) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Calls `then` once the request's head has arrived (the body may still be on its way). */
function afterRequestHead(socket: Socket, then: () => void): void {
  let seen = "";
  const onData = (chunk: Buffer) => {
    seen += chunk.toString("latin1");
    if (!seen.includes("\r\n\r\n")) return;
    socket.off("data", onData);
    socket.resume();
    then();
  };
  socket.on("data", onData);
}

describe("hostile receivers: every attempt recorded with its error class, memory bounded", () => {
  const scene = useHerald();

  /** One event to an endpoint at `url`; answers its delivery once the first attempt is recorded. */
  async function firstAttempt(url: string, fields: Record<string, unknown> = {}) {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url, ...fields });
    const eventId = await emit(herald, merchant);
    const found = await attemptsRecorded(herald, eventId, 1);
    return { ...found, attempt: found.attempts[0]!, endpoint };
  }

  it("never answers: timeout after the endpoint's timeout_ms, and the delivery waits for its retry", async () => {
    const server = await rawServer((socket) => socket.resume());
    const { attempt, delivery } = await firstAttempt(server.url, { timeout_ms: 1000 });
    expect(attempt).toMatchObject({ error: "timeout", response_status: null, response_body: null });
    expect(attempt.duration_ms).toBeGreaterThanOrEqual(995);
    expect(attempt.duration_ms).toBeLessThan(1500);
    expect(delivery.status).toBe("pending");
    expect(delivery.next_attempt_at).not.toBeNull();
    await server.close();
  });

  it("drips the status line one byte a second: timeout within the timeout", async () => {
    const server = await rawServer((socket) =>
      afterRequestHead(socket, () => {
        const answer = Buffer.from("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        let sent = 0;
        const drip = setInterval(() => {
          if (socket.destroyed || sent >= answer.length) return clearInterval(drip);
          socket.write(answer.subarray(sent, ++sent));
        }, 1000);
        socket.on("close", () => clearInterval(drip));
      }),
    );
    const { attempt } = await firstAttempt(server.url, { timeout_ms: 1000 });
    expect(attempt.error).toBe("timeout");
    expect(attempt.duration_ms).toBeGreaterThanOrEqual(995);
    expect(attempt.duration_ms).toBeLessThan(1500);
    await server.close();
  });

  it("sends a 200 head, then drips the body one byte a second: timeout, not success", async () => {
    const server = await rawServer((socket) =>
      afterRequestHead(socket, () => {
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n");
        const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write("x")), 1000);
        socket.on("close", () => clearInterval(drip));
      }),
    );
    const { attempt, delivery } = await firstAttempt(server.url, { timeout_ms: 1000 });
    expect(attempt).toMatchObject({ error: "timeout", response_status: 200 });
    expect(attempt.duration_ms).toBeGreaterThanOrEqual(995);
    expect(attempt.duration_ms).toBeLessThan(1500);
    expect(delivery.status).toBe("pending");
    await server.close();
  });

  it("resets the connection: connection_reset", async () => {
    const server = await rawServer((socket) => afterRequestHead(socket, () => socket.resetAndDestroy()));
    const { attempt } = await firstAttempt(server.url);
    expect(attempt).toMatchObject({ error: "connection_reset", response_status: null });
    await server.close();
  });

  it("nothing listens on the port: connection_refused", async () => {
    const server = await rawServer(() => {});
    const { url } = server;
    await server.close();
    const { attempt } = await firstAttempt(url);
    expect(attempt).toMatchObject({ error: "connection_refused", response_status: null });
  });

  it("answers garbage instead of HTTP: invalid_response", async () => {
    const server = await rawServer((socket) =>
      afterRequestHead(socket, () => socket.end("SSH-2.0-OpenSSH_9.6\r\nthis is not http\r\n\r\n")),
    );
    const { attempt } = await firstAttempt(server.url);
    expect(attempt).toMatchObject({ error: "invalid_response", response_status: null });
    await server.close();
  });

  it("a 10 MB body: 64 KiB stored, judged by its status, the rest never read", async () => {
    const { herald } = scene;
    const size = 10 * 1024 * 1024;
    const written: number[] = [];
    const server = await rawServer((socket) =>
      afterRequestHead(socket, () => {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${size}\r\n\r\n`);
        // 64 KiB every 5 ms: the whole body would take about a second, so what was sent before
        // the dispatcher hung up shows how much of it it read.
        const chunk = Buffer.alloc(64 * 1024, "a");
        let sent = 0;
        const pump = setInterval(() => {
          if (socket.destroyed || sent >= size) return clearInterval(pump);
          sent += chunk.length;
          socket.write(chunk);
        }, 5);
        socket.on("close", () => {
          clearInterval(pump);
          written.push(sent);
        });
      }),
    );
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: server.url });
    const events = await Promise.all(Array.from({ length: 5 }, () => emit(herald, merchant)));
    const found = await Promise.all(events.map((id) => settledDelivery(herald, id)));
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    for (const { delivery, attempts } of found) {
      expect(delivery.status).toBe("succeeded");
      expect(delivery.endpoint_id).toBe(endpoint.id);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]).toMatchObject({ response_status: 200, error: null });
      expect(attempts[0]!.response_body).toBe("a".repeat(64 * 1024));
    }
    await server.close();
    expect(written).toHaveLength(5);
    // Had the bodies been read, all 50 MB would have been sent.
    for (const bytes of written) expect(bytes).toBeLessThan(1024 * 1024);
    expect(rssGrowth).toBeLessThan(64 * 1024 * 1024);
  });
});
