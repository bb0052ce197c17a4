// The webhook receiver the bench and the drills deliver to: its own process, so that its CPU is
// not the load generator's. The parent drives it over IPC (see receiver.ts).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Arrival, ReceiverCommand } from "./receiver.ts";

let arrivals: Arrival[] = [];
let total = 0;
/** Path prefixes that never answer: the "endpoint timing out". */
const hanging = new Set<string>();
/** Attempts seen per path and webhook-id, for `/fail/<n>/…` paths that fail the first n. */
const attemptsSeen = new Map<string, number>();

const server = createServer((request, response) => {
  const at = performance.timeOrigin + performance.now();
  const path = request.url ?? "/";
  const id = String(request.headers["webhook-id"] ?? "");
  request.resume();
  request.on("end", () => {
    const failFirst = /^\/fail\/(\d+)\//.exec(path);
    let status = 200;
    if (failFirst) {
      const key = `${path} ${id}`;
      const seen = (attemptsSeen.get(key) ?? 0) + 1;
      attemptsSeen.set(key, seen);
      if (seen <= Number(failFirst[1])) status = 500;
    }
    // The raw-POST baselines run beside Herald's deliveries and must not be counted as theirs.
    if (!path.startsWith("/baseline")) {
      arrivals.push({ path, id, at, status });
      total++;
    }
    if ([...hanging].some((prefix) => path.startsWith(prefix))) return;
    response.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "not yet");
  });
});
server.keepAliveTimeout = 30_000;

process.on("message", (command: ReceiverCommand & { seq: number }) => {
  let answer: unknown = null;
  if (command.op === "count") answer = total;
  else if (command.op === "take") {
    answer = arrivals;
    arrivals = [];
  } else if (command.op === "hang") {
    if (command.on) hanging.add(command.prefix);
    else hanging.delete(command.prefix);
  } else if (command.op === "reset") {
    arrivals = [];
    total = 0;
    attemptsSeen.clear();
    hanging.clear();
  }
  process.send!({ seq: command.seq, answer });
});

server.listen(0, "127.0.0.1", () => {
  process.send!({ seq: 0, answer: (server.address() as AddressInfo).port });
});
