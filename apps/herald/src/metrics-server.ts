import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { register } from "prom-client";

/** `/metrics` and `/healthz` for a dispatcher-only process, which has no API to serve them. */
export async function serveMetrics(
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (request, response) => {
    if (request.url === "/metrics") {
      response.writeHead(200, { "content-type": register.contentType }).end(await register.metrics());
    } else if (request.url === "/healthz") {
      response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    } else {
      response.writeHead(404).end();
    }
  });
  // A port in use fails the start (one line, nothing left running) instead of crashing the process.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
