import { describe, expect, it } from "vitest";
import { createEndpoint, createMerchant, useHerald } from "./support/fixture.ts";

describe("GET …/endpoints/{eid}/secret: a receiver that lost its secret reads it again", () => {
  const scene = useHerald({ dispatcher: false });

  it("answers the newest secret, also after a rotation, to the merchant's own key only", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, { url: "http://127.0.0.1:9/lost", mode: "test" });
    const key = (await herald.api("POST", `/v1/merchants/${merchant}/api-keys`, { mode: "test" })).body.key;
    const path = `/v1/merchants/${merchant}/endpoints/${endpoint.id}/secret`;

    const read = await herald.api("GET", path, undefined, { key });
    expect(read).toMatchObject({ status: 200, body: { secret: endpoint.secret } });

    const rotated = await herald.api(
      "POST",
      `/v1/merchants/${merchant}/endpoints/${endpoint.id}/rotate-secret`,
      {},
    );
    expect((await herald.api("GET", path, undefined, { key })).body.secret).toBe(rotated.body.secret);

    const other = await createMerchant(herald, "Other");
    const otherKey = (await herald.api("POST", `/v1/merchants/${other}/api-keys`, { mode: "test" })).body.key;
    const foreign = await herald.api("GET", path, undefined, { key: otherKey });
    expect(foreign.status).toBe(404);
    expect(JSON.stringify(foreign.body)).not.toContain(rotated.body.secret);
  });

  it("never shows an Ed25519 endpoint's signing key: its public key instead", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const endpoint = await createEndpoint(herald, merchant, {
      url: "http://127.0.0.1:9/ed",
      mode: "test",
      signature_scheme: "standard-ed25519",
    });
    const read = await herald.api("GET", `/v1/merchants/${merchant}/endpoints/${endpoint.id}/secret`);
    expect(read.body.secret).toMatch(/^whpk_/);
    expect(read.body.secret).toBe(endpoint.secret);
  });
});
