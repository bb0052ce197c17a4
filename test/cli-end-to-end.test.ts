import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestHerald, type TestHerald } from "./support/herald.ts";
import { Receiver } from "./support/receiver.ts";

const bin = new URL("../apps/cli/src/herald.ts", import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("the herald CLI, run as a child process against a real Herald", () => {
  let herald: TestHerald;
  let receiver: Receiver;
  let home: string;
  let env: Record<string, string>;
  const children: ChildProcess[] = [];

  /** Runs `herald ...args` with the environment given (none of the caller's HERALD_* leaks in). */
  function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<Run> {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH!, HERALD_CONFIG: join(home, "profiles.json"), ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdin.end(options.input ?? "");
    return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  }
  const json = async (args: string[], options: { env?: Record<string, string>; input?: string } = {}) => {
    const run = await cli(["--json", ...args], { env, ...options });
    expect(run.code, `${args.join(" ")}: ${run.stderr}`).toBe(0);
    return JSON.parse(run.stdout);
  };

  beforeAll(async () => {
    herald = await startTestHerald();
    receiver = await Receiver.start();
    home = await mkdtemp(join(tmpdir(), "herald-cli-"));
    env = { HERALD_URL: herald.url, HERALD_API_KEY: herald.adminKey };
  });
  afterAll(async () => {
    for (const child of children) child.kill();
    await receiver.close();
    await herald.stop();
    await rm(home, { recursive: true, force: true });
  });

  it("answers --help for every command with exit 0, and usage errors with exit 2", async () => {
    const commands = [
      [],
      ["merchants"],
      ["merchants", "create"],
      ["endpoints", "create"],
      ["keys", "rotate"],
      ["emit"],
      ["deliveries", "tail"],
      ["retry"],
      ["recover"],
      ["verify"],
      ["listen"],
      ["profiles", "save"],
    ];
    const runs = await Promise.all(commands.map((command) => cli([...command, "--help"])));
    for (const [i, run] of runs.entries()) {
      expect(run.code, commands[i]!.join(" ")).toBe(0);
      expect(run.stdout).toMatch(/^Usage: herald/);
    }
    expect((await cli(["nonsense"])).code).toBe(2);
    expect((await cli(["merchants", "create"], { env })).code).toBe(2);
    const nowhere = await cli(["merchants", "list"]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain("HERALD_URL");
  });

  it("manages merchants and keys as the admin: tables without colour off a TTY, JSON for scripts, key rotation", async () => {
    const merchant = await json(["merchants", "create", "--name", "CLI Shop", "--metadata", "plan=pro"]);
    expect(merchant).toMatchObject({ name: "CLI Shop", metadata: { plan: "pro" } });
    const table = await cli(["merchants", "list"], { env });
    expect(table.stdout).toMatch(/^ID\s+NAME\s+CREATED/);
    expect(table.stdout).toContain("CLI Shop");
    expect(table.stdout).not.toContain("\u001b[");

    const key = await json(["keys", "create", "--merchant", merchant.id, "--mode", "test"]);
    expect(key.key).toMatch(/^hk_test_/);
    const rotated = await json(["keys", "rotate", key.id, "--merchant", merchant.id]);
    expect(rotated).toMatchObject({ mode: "test", replaced: key.id });
    const listed = await json(["keys", "list", "--merchant", merchant.id]);
    expect(listed.find((k: { id: string }) => k.id === key.id).revoked_at).not.toBeNull();
    expect(
      (await herald.api("GET", `/v1/merchants/${merchant.id}/endpoints`, undefined, { key: key.key })).status,
    ).toBe(401);
    expect(
      (await herald.api("GET", `/v1/merchants/${merchant.id}/endpoints`, undefined, { key: rotated.key }))
        .status,
    ).toBe(200);
  });

  it("with a saved profile and a merchant key: endpoints, emit from a flag, a file and stdin, deliveries, retry, tail --follow", async () => {
    const merchant = await json(["merchants", "create", "--name", "Profile Shop"]);
    const key = await json(["keys", "create", "--merchant", merchant.id]);
    const saved = await cli([
      "profiles",
      "save",
      "shop",
      "--url",
      herald.url,
      "--api-key",
      key.key,
      "--merchant",
      merchant.id,
    ]);
    expect(saved.code).toBe(0);
    const asShop = { HERALD_PROFILE: "shop" };
    const endpoint = await json(["endpoints", "create", `${receiver.url}/cli`, "--events", "payment.*"], {
      env: asShop,
    });
    expect(endpoint).toMatchObject({ mode: "test", event_types: ["payment.*"] });
    expect(endpoint.secret).toMatch(/^whsec_/);

    const fromFlag = await json(["emit", "payment.succeeded", "--data", '{"amount":1}'], { env: asShop });
    const file = join(home, "data.json");
    await writeFile(file, '{"amount":2}');
    const fromFile = await json(["emit", "payment.succeeded", "--data-file", file], { env: asShop });
    const fromStdin = await json(["emit", "payment.refunded", "--data-file", "-"], {
      env: asShop,
      input: '{"amount":3}',
    });
    const bodies = await receiver.waitFor(3);
    expect(bodies.map((r) => JSON.parse(r.body).data.amount).sort()).toEqual([1, 2, 3]);
    expect(new Set([fromFlag.id, fromFile.id, fromStdin.id]).size).toBe(3);
    const repeated = await json(
      ["emit", "payment.succeeded", "--data", '{"amount":1}', "--idempotency-key", "k1"],
      {
        env: asShop,
      },
    );
    const again = await json(
      ["emit", "payment.succeeded", "--data", '{"amount":1}', "--idempotency-key", "k1"],
      {
        env: asShop,
      },
    );
    expect(again.id).toBe(repeated.id);

    const deliveries = await eventually(async () => {
      const list = await json(["deliveries", "list", "--status", "succeeded"], { env: asShop });
      return list.length >= 4 ? list : undefined;
    });
    const one = await json(["deliveries", "get", deliveries[0].id], { env: asShop });
    expect(one.attempts[0].response_status).toBe(200);
    const table = await cli(["deliveries", "list"], { env: asShop });
    expect(table.stdout).toMatch(/succeeded/);

    const tail = spawn(
      process.execPath,
      [bin, "deliveries", "tail", "--follow", "--limit", "1", "--interval-ms", "100"],
      {
        env: { PATH: process.env.PATH!, HERALD_CONFIG: join(home, "profiles.json"), ...asShop },
      },
    );
    children.push(tail);
    let tailed = "";
    tail.stdout.on("data", (chunk) => (tailed += chunk));
    await eventually(async () => (tailed.split("\n").length >= 2 ? true : undefined));
    const before = tailed;
    const retried = await json(["retry", deliveries[0].id], { env: asShop });
    expect(retried.id).toBe(deliveries[0].id);
    await json(["emit", "payment.captured", "--data", "{}"], { env: asShop });
    await eventually(async () => (/→ payment\.captured {2}200 {2}\d+ ms/.test(tailed) ? true : undefined));
    expect(tailed.slice(before.length)).toMatch(/manual/);
    tail.kill("SIGINT");
  });

  it("recovers an endpoint's failed deliveries with progress, and exits 0 once completed", async () => {
    const merchant = await json(["merchants", "create", "--name", "Recover Shop"]);
    const failing = await Receiver.start(() => ({ status: 500 }));
    const endpoint = await herald.api("POST", `/v1/merchants/${merchant.id}/endpoints`, {
      url: `${failing.url}/r`,
      mode: "test",
      retry_policy: { custom: [1] },
    });
    const as = { ...env, HERALD_MERCHANT: merchant.id };
    await json(["emit", "order.paid", "--mode", "test", "--data", "{}"], { env: as });
    await eventually(async () => {
      const failed = await json(["deliveries", "list", "--status", "failed"], { env: as });
      return failed.length === 1 ? true : undefined;
    }, 15_000);
    failing.respond = () => ({ status: 200 });
    const run = await cli(["recover", endpoint.body.id, "--since", "1h", "--interval-ms", "100"], {
      env: as,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\[█+\] 1\/1 {2}✓ 1 {2}✗ 0 {2}completed/);
    await failing.close();
  });

  it("verifies a saved request against a secret, and exits 6 when it was changed", async () => {
    const merchant = await json(["merchants", "create", "--name", "Verify Shop"]);
    const capture = await Receiver.start();
    const endpoint = await herald.api("POST", `/v1/merchants/${merchant.id}/endpoints`, {
      url: `${capture.url}/v`,
      mode: "test",
    });
    await json(["emit", "payment.succeeded", "--mode", "test", "--data", '{"amount":7}'], {
      env: { ...env, HERALD_MERCHANT: merchant.id },
    });
    const [request] = await capture.waitFor(1);
    await capture.close();
    const saved = join(home, "request.json");
    await writeFile(saved, JSON.stringify({ headers: request!.headers, body: request!.body }));
    const valid = await cli(["verify", saved, "--secret", endpoint.body.secret]);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toMatch(/^valid {2}payment\.succeeded/);

    const raw = `POST /v HTTP/1.1\r\n${Object.entries(request!.headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join("\r\n")}\r\n\r\n${request!.body.replace("7", "8")}`;
    const tampered = await cli(["verify", "--secret", endpoint.body.secret], { input: raw });
    expect(tampered.code).toBe(6);
    expect(tampered.stdout).toContain("no_matching_signature");
  });

  it("exits 4 when Herald refuses, naming the field, and 3 when it cannot be reached", async () => {
    const merchant = await json(["merchants", "create", "--name", "Errors Shop"]);
    const refused = await cli(["endpoints", "create", "not a url", "--merchant", merchant.id], { env });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("field: url");
    expect((await cli(["endpoints", "get", "ep_missing", "--merchant", merchant.id], { env })).code).toBe(4);
    const down = await cli(["merchants", "list"], {
      env: { HERALD_URL: "http://127.0.0.1:9", HERALD_API_KEY: "k" },
    });
    expect(down.code).toBe(3);
  });
});
