import { describe, expect, it } from "vitest";
import { createMerchant, useHerald } from "./support/fixture.ts";

describe("rate_limit_per_second and ordering are validated, stored and cleared", () => {
  const scene = useHerald({ dispatcher: false });

  it("refuses a rate that is not a positive number up to 10 000, and an unknown ordering, naming the field", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const url = "http://127.0.0.1:9/hook";
    for (const [field, value] of [
      ["rate_limit_per_second", 0],
      ["rate_limit_per_second", -1],
      ["rate_limit_per_second", 10_001],
      ["rate_limit_per_second", "10"],
      ["ordering", "lifo"],
      ["ordering", null],
    ] as const) {
      const answer = await herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
        url,
        mode: "test",
        [field]: value,
      });
      expect(answer.status, `${field}=${JSON.stringify(value)}`).toBe(400);
      expect(answer.headers.get("content-type")).toMatch(/problem\+json/);
      expect(answer.body.field).toBe(field);
    }
  });

  it("stores a fractional rate and fifo, and a PATCH with null removes the limit", async () => {
    const { herald } = scene;
    const merchant = await createMerchant(herald);
    const created = await herald.api("POST", `/v1/merchants/${merchant}/endpoints`, {
      url: "http://127.0.0.1:9/hook",
      mode: "test",
      rate_limit_per_second: 0.1,
      ordering: "fifo",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ rate_limit_per_second: 0.1, ordering: "fifo" });
    const patched = await herald.api("PATCH", `/v1/merchants/${merchant}/endpoints/${created.body.id}`, {
      rate_limit_per_second: null,
      ordering: "parallel",
    });
    expect(patched.body).toMatchObject({ rate_limit_per_second: null, ordering: "parallel" });
  });
});
