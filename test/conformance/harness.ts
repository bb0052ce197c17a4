import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import express, { type Express } from "express";

/**
 * What each receiver concluded about each request: the status it answered and what its own code
 * logged (a seed receiver's only way of saying "bad signature" besides its status).
 */
export interface Verdict {
  path: string;
  status: number;
  /** The raw body as it arrived, so a test can compare it with what Herald recorded. */
  raw: string;
  logs: string[];
}

/** The `console` a seed's sample code logs to, captured per request. */
export interface ReceiverConsole {
  log(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface TlsFiles {
  cert: string;
  key: string;
}

/**
 * A throw-away certificate for 127.0.0.1, trusted by this process's TLS from now on, so Herald's
 * dispatcher (running in this process) verifies https receivers as it would a public one.
 */
export function trustedLoopbackCertificate(): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), "herald-conformance-"));
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1"],
      ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
    ],
    { stdio: "ignore" },
  );
  const files = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
  setDefaultCACertificates([...getCACertificates("default"), readFileSync(files.cert, "utf8")]);
  return files;
}

const verdictOf = (req: express.Request) => (req as unknown as { verdict: Verdict }).verdict;
const format = (args: unknown[]) =>
  args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ");

/**
 * The `console` of one request: a seed's handler starts with `const console = consoleOf(req)` and
 * then logs as its sample does, into that request's verdict.
 */
function consoleOf(req: express.Request): ReceiverConsole {
  const { logs } = verdictOf(req);
  return {
    log: (...args) => logs.push(format(args)),
    error: (...args) => logs.push(`ERROR ${format(args)}`),
  };
}

/**
 * Serves a seed's receiver: `mount` adds the seed's own code to a bare Express app. In front of it
 * sit only the observation (status, logs, raw bytes) and an outage switch the test uses to make
 * the receiver fail a number of times with a status of its choice.
 */
export class ExpressReceiver {
  readonly verdicts: Verdict[] = [];
  #failures: { status: number; left: number } = { status: 503, left: 0 };
  #server!: Server;
  url = "";

  static async start(
    mount: (app: Express, consoleOf: (req: express.Request) => ReceiverConsole) => void,
    options: { path: string; tls?: TlsFiles },
  ): Promise<ExpressReceiver> {
    const receiver = new ExpressReceiver();
    const app = express();
    app.use((req, res, next) => {
      const verdict: Verdict = { path: req.path, status: 0, raw: "", logs: [] };
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      (req as unknown as { verdict: Verdict }).verdict = verdict;
      res.on("finish", () => {
        verdict.status = res.statusCode;
        verdict.raw = Buffer.concat(chunks).toString("utf8");
        receiver.verdicts.push(verdict);
      });
      if (receiver.#failures.left > 0) {
        receiver.#failures.left -= 1;
        verdict.logs.push("(outage)");
        res.sendStatus(receiver.#failures.status);
        return;
      }
      next();
    });
    mount(app, consoleOf);
    // Express's own answer to a throw (a 500): recorded like any log line, kept off the test output.
    app.use((error: Error, req: express.Request, res: express.Response, _next: express.NextFunction) => {
      verdictOf(req).logs.push(`ERROR thrown: ${error.message}`);
      res.sendStatus(500);
    });
    receiver.#server = await new Promise<Server>((resolve) => {
      const server = options.tls
        ? createHttpsServer(
            { cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) },
            app,
          ).listen(0, "127.0.0.1", () => resolve(server))
        : app.listen(0, "127.0.0.1", () => resolve(server as Server));
    });
    const port = (receiver.#server.address() as AddressInfo).port;
    receiver.url = `${options.tls ? "https" : "http"}://127.0.0.1:${port}${options.path}`;
    return receiver;
  }

  /** Every request is answered `status` before it reaches the seed's code, until `up()`. */
  down(status: number): void {
    this.#failures = { status, left: Number.POSITIVE_INFINITY };
  }

  up(): void {
    this.#failures = { status: 503, left: 0 };
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * A seed's Python receiver run as its own process (`python3 -u file.py`), the way its merchant
 * would run it. Restarting it with another secret is how its merchant deploys a rotated secret;
 * stopping it is an outage. Verdicts come from its own output: werkzeug's request log line for the
 * status, its prints for the rest.
 */
export class PythonReceiver {
  readonly verdicts: Verdict[] = [];
  #process: ReturnType<typeof spawn> | undefined;
  #pending: string[] = [];
  url = "";

  readonly file: string;
  readonly port: number;

  private constructor(file: string, port: number, path: string) {
    this.file = file;
    this.port = port;
    this.url = `http://127.0.0.1:${port}${path}`;
  }

  static async start(file: string, path: string, secret: string): Promise<PythonReceiver> {
    const receiver = new PythonReceiver(file, await freePort(), path);
    await receiver.run(secret);
    return receiver;
  }

  /** (Re)starts the process with `secret`, once it is listening. */
  async run(secret: string): Promise<void> {
    await this.stop();
    // One stream for both outputs, so a print and the request line that follows stay in order;
    // `exec` keeps the interpreter the process we signal.
    const child = spawn("/bin/sh", ["-c", 'exec "$0" -u "$1" 2>&1', pythonExecutable(), this.file], {
      env: { ...process.env, PORT: String(this.port), WEBHOOK_SECRET: secret },
      stdio: ["ignore", "pipe", "ignore"],
    });
    this.#process = child;
    const listening = Promise.withResolvers<void>();
    const onLine = (line: string) => {
      if (line.includes("Running on")) listening.resolve();
      const request = /"POST (\S+) HTTP\/[\d.]+" (\d{3})/.exec(line);
      if (request) {
        this.verdicts.push({ path: request[1]!, status: Number(request[2]), raw: "", logs: this.#pending });
        this.#pending = [];
      } else if (line.trim() && !startupLine.test(line)) {
        this.#pending.push(line.trim());
      }
    };
    let buffered = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) onLine(line);
    });
    child.on("exit", (code) => listening.reject(new Error(`python receiver exited with ${code}`)));
    await listening.promise;
  }

  async stop(): Promise<void> {
    const child = this.#process;
    // A process ended by a signal has a signalCode and no exitCode.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

/** What the Flask development server says when it starts: not about any request. */
const startupLine = /^( \* |WARNING: This is a development server|Press CTRL\+C)/;

let python: string | undefined;

/**
 * The interpreter itself, not a version manager's shim: a shim that runs Python as its child would
 * take our SIGTERM and leave the receiver running on its port.
 */
/** Whether this machine's python3 can import `module` (Flask is not on every machine). */
export function pythonHas(module: string): boolean {
  try {
    execFileSync(pythonExecutable(), ["-c", `import ${module}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function pythonExecutable(): string {
  python ??= execFileSync("python3", ["-c", "import sys; print(sys.executable)"], {
    encoding: "utf8",
  }).trim();
  return python;
}

async function freePort(): Promise<number> {
  const server = await new Promise<Server>((resolve) => {
    const s = express().listen(0, "127.0.0.1", () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
