import { spawn } from "node:child_process";
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify as nodeVerify } from "node:crypto";
import { verify as heraldVerify } from "@herald/verify";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createEndpoint,
  createMerchant,
  emit,
  eventually,
  type Received,
  useHerald,
} from "./support/fixture.ts";

/**
 * `standard-ed25519` end to end: real deliveries to a loopback receiver, each checked by an
 * implementation that shares no code with Herald's signer — Node's `crypto.verify` with the endpoint's
 * `whpk_` public key turned into an SPKI key here, over `{id}.{timestamp}.{body}` exactly as received.
 */

/** The Ed25519 public key a `whpk_` string names, built from its raw 32 bytes (RFC 8410 SPKI). */
function publicKey(whpk: string) {
  expect(whpk).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
  const raw = Buffer.from(whpk.slice("whpk_".length), "base64");
  expect(raw).toHaveLength(32);
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]);
  return createPublicKey({ key: spki, format: "der", type: "spki" });
}

/** The `v1a` signatures of a request, in header order. */
function v1aSignatures(request: Received): string[] {
  const header = String(request.headers["webhook-signature"]);
  const parts = header.split(" ");
  for (const part of parts) expect(part).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
  return parts.map((p) => p.slice(4));
}

/** Whether any signature of the request verifies under `whpk`. */
function verifiesWith(whpk: string, request: Received): boolean {
  const signed = Buffer.from(
    `${request.headers["webhook-id"]}.${request.headers["webhook-timestamp"]}.${request.body}`,
  );
  return v1aSignatures(request).some((signature) =>
    nodeVerify(null, signed, publicKey(whpk), Buffer.from(signature, "base64")),
  );
}

const bin = new URL("../apps/cli/src/herald.ts", import.meta.url).pathname;

/** `herald ...args` as a child process, `input` on its stdin. */
function cli(
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH ?? "" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  child.stdin.end(input);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("standard-ed25519: v1a signatures that receivers verify with the public key alone", () => {
  const scene = useHerald();
  let merchant: string;
  beforeAll(async () => {
    merchant = await createMerchant(scene.herald);
  });

  async function deliveredTo(path: string, type: string): Promise<Received> {
    const { herald, receiver } = scene;
    await emit(herald, merchant, { type });
    return eventually(async () =>
      receiver.received.find((r) => r.path === path && r.body.includes(`"${type}"`)),
    );
  }

  const api = (method: string, path: string, body?: unknown) =>
    scene.herald.api(method, `/v1/merchants/${merchant}${path}`, body);

  it("signs before, during and after a rotation with every valid key, verified by Node's crypto.verify", async () => {
    const { herald, receiver } = scene;
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/ed`,
      event_types: ["ed.*"],
      signature_scheme: "standard-ed25519",
    });
    // Only the public key leaves Herald: the create answer's `secret` is it, and the view shows it.
    const first = endpoint.public_key as string;
    expect(endpoint.secret).toBe(first);
    expect(endpoint.signature_scheme).toBe("standard-ed25519");
    const view = await api("GET", `/endpoints/${endpoint.id}`);
    expect(view.body.public_key).toBe(first);
    expect(view.body.public_keys).toEqual([{ key: first, expires_at: null }]);
    expect(JSON.stringify(view.body)).not.toContain("whsk_");

    const before = await deliveredTo("/ed", "ed.before");
    expect(v1aSignatures(before)).toHaveLength(1);
    expect(verifiesWith(first, before)).toBe(true);

    const rotated = await api("POST", `/endpoints/${endpoint.id}/rotate-secret`, { grace_period_hours: 24 });
    expect(rotated.status).toBe(200);
    const second: string = rotated.body.secret;
    expect(second).toMatch(/^whpk_/);
    expect(second).not.toBe(first);
    const during = await deliveredTo("/ed", "ed.during");
    expect(v1aSignatures(during)).toHaveLength(2);
    expect(verifiesWith(first, during)).toBe(true);
    expect(verifiesWith(second, during)).toBe(true);
    const rotatingView = (await api("GET", `/endpoints/${endpoint.id}`)).body;
    expect(rotatingView.public_key).toBe(second);
    expect(rotatingView.public_keys.map((k: { key: string }) => k.key)).toEqual([second, first]);
    expect(rotatingView.public_keys[1].expires_at).toBe(rotated.body.previous_secrets_expire_at);

    expect((await api("POST", `/endpoints/${endpoint.id}/secret/activate`)).body.retired).toBe(1);
    const after = await deliveredTo("/ed", "ed.after");
    expect(v1aSignatures(after)).toHaveLength(1);
    expect(verifiesWith(second, after)).toBe(true);
    expect(verifiesWith(first, after)).toBe(false);

    // The check can fail: a body changed by one byte verifies under no key.
    expect(verifiesWith(second, { ...after, body: `${after.body} ` })).toBe(false);
  });

  it("signs with a merchant's own whsk_ key (seed alone, or seed and public key) and refuses anything else, naming secret", async () => {
    const { herald, receiver } = scene;
    const { privateKey, publicKey: pub } = generateKeyPairSync("ed25519");
    const seed = Buffer.from(privateKey.export({ format: "jwk" }).d as string, "base64url");
    const raw = Buffer.from(pub.export({ format: "jwk" }).x as string, "base64url");
    const expected = `whpk_${raw.toString("base64")}`;

    const own = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/own`,
      event_types: ["own.*"],
      signature_scheme: "standard-ed25519",
      secret: `whsk_${seed.toString("base64")}`,
    });
    expect(own.public_key).toBe(expected);
    const delivered = await deliveredTo("/own", "own.one");
    expect(verifiesWith(expected, delivered)).toBe(true);

    const rotated = await api("POST", `/endpoints/${own.id}/rotate-secret`, {
      secret: `whsk_${Buffer.concat([seed, raw]).toString("base64")}`,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toBe(expected);

    const other = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x as string;
    const refused = [
      `whsec_${seed.toString("base64")}`,
      `whsk_${seed.subarray(0, 31).toString("base64")}`,
      // A 64-byte key whose second half is not the seed's public key.
      `whsk_${Buffer.concat([seed, Buffer.from(other, "base64url")]).toString("base64")}`,
      "whsk_not base64!",
    ];
    for (const secret of refused) {
      const answer = await api("POST", "/endpoints", {
        url: `${receiver.url}/bad`,
        mode: "test",
        signature_scheme: "standard-ed25519",
        secret,
      });
      expect(answer.status, secret).toBe(400);
      expect(answer.body.field).toBe("secret");
      expect(answer.headers.get("content-type")).toMatch(/application\/problem\+json/);
    }
  });

  it("the sealed whsk_ key at rest is not the key, and its public key matches what the view shows", async () => {
    const { herald, receiver } = scene;
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/rest`,
      signature_scheme: "standard-ed25519",
    });
    const row = await herald.database.db
      .selectFrom("endpoints")
      .select("secrets")
      .where("id", "=", endpoint.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row.secrets)).not.toContain("whsk_");
    expect(row.secrets[0]?.public_key).toBe(endpoint.public_key);
  });

  it("@herald/verify and `herald verify` accept a real v1a delivery with the whpk_ key, and refuse it changed", async () => {
    const { herald, receiver } = scene;
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/sdk`,
      event_types: ["sdk.*"],
      signature_scheme: "standard-ed25519",
    });
    const whpk = endpoint.public_key as string;
    const delivered = await deliveredTo("/sdk", "sdk.one");
    const headers = delivered.headers as Record<string, string>;
    await expect(heraldVerify(delivered.body, headers, { secret: whpk })).resolves.toMatchObject({
      type: "sdk.one",
    });
    await expect(heraldVerify(`${delivered.body} `, headers, { secret: whpk })).rejects.toMatchObject({
      reason: "no_matching_signature",
    });

    const saved = JSON.stringify({ headers, body: delivered.body });
    const valid = await cli(["verify", "--secret", whpk], saved);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toMatch(/^valid {2}sdk\.one/);
    const changed = JSON.stringify({ headers, body: delivered.body.replace("sdk.one", "sdk.two") });
    const invalid = await cli(["verify", "--scheme", "standard-ed25519", "--secret", whpk], changed);
    expect(invalid.code).toBe(6);
    expect(invalid.stdout).toContain("no_matching_signature");
  });

  it("a profile may make standard-ed25519 the default scheme of its endpoints", async () => {
    const { herald, receiver } = scene;
    const created = await herald.api("POST", "/v1/profiles", {
      name: "asymmetric",
      signature_scheme: "standard-ed25519",
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const endpoint = await createEndpoint(herald, merchant, {
      url: `${receiver.url}/profiled`,
      event_types: ["profiled.*"],
      profile: "asymmetric",
    });
    expect(endpoint.signature_scheme).toBe("standard-ed25519");
    const delivered = await deliveredTo("/profiled", "profiled.one");
    expect(verifiesWith(endpoint.public_key as string, delivered)).toBe(true);
  });
});

// Keeps the SPKI construction above honest: the DER built from raw bytes is the key Node derives.
describe("the test's own SPKI construction", () => {
  it("builds the same public key Node derives from a private key", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const x = createPublicKey(createPrivateKey(privateKey.export({ format: "pem", type: "pkcs8" }))).export({
      format: "jwk",
    }).x as string;
    const built = publicKey(`whpk_${Buffer.from(x, "base64url").toString("base64")}`);
    expect(built.export({ format: "jwk" }).x).toBe(x);
  });
});
