import { Pool } from "undici";
import { fixedRate, type LoadRun, preciseNow } from "./load.ts";

export interface Answer {
  status: number;
  contentType: string;
  // biome-ignore lint/suspicious/noExplicitAny: whatever the API answered
  body: any;
}

/** A payment event of a realistic size (about 300 bytes delivered). */
export function paymentData(n: number) {
  return {
    payment_id: `pay_${n.toString(36).padStart(10, "0")}`,
    amount: 2500 + (n % 1000),
    currency: "PKR",
    status: "succeeded",
    customer: { email: "buyer@example.com", name: "Ayesha Khan" },
    reference: `order-${n}`,
  };
}

/** Herald's HTTP API, called the way a provider's backend calls it: the admin key, kept-alive connections. */
export class HeraldApi {
  readonly url: string;
  readonly #pool: Pool;
  readonly #headers: Record<string, string>;

  constructor(url: string, adminKey: string, connections = 64) {
    this.url = url;
    this.#pool = new Pool(url, { connections, pipelining: 1 });
    this.#headers = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
  }

  async call(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<Answer> {
    const response = await this.#pool.request({
      method,
      path,
      headers: body === undefined ? { authorization: this.#headers.authorization! } : this.#headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await response.body.text();
    const contentType = String(response.headers["content-type"] ?? "");
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: response.statusCode, contentType, body: parsed };
  }

  async createMerchant(name: string): Promise<string> {
    const answer = await this.call("POST", "/v1/merchants", { name });
    if (answer.status !== 201) throw new Error(`merchant: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.id;
  }

  /** A test-mode endpoint (plain http to loopback is allowed there). */
  async createEndpoint(merchantId: string, fields: Record<string, unknown>): Promise<string> {
    const answer = await this.call("POST", `/v1/merchants/${merchantId}/endpoints`, {
      mode: "test",
      ...fields,
    });
    if (answer.status !== 201) throw new Error(`endpoint: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.id;
  }

  /** Emits one test-mode event; answers the status, the event id and when the request was sent. */
  async emit(
    merchantId: string,
    type: string,
    n: number,
  ): Promise<{ status: number; id?: string; sentAt: number; answer: Answer }> {
    const sentAt = preciseNow();
    const answer = await this.call(
      "POST",
      `/v1/merchants/${merchantId}/events`,
      `{"type":"${type}","mode":"test","data":${JSON.stringify(paymentData(n))}}`,
    );
    return { status: answer.status, id: answer.body?.id, sentAt, answer };
  }

  /** Emits `count` test-mode events in one batch request; answers their ids (undefined when refused). */
  async emitBatch(merchantId: string, types: string[], first: number, count: number): Promise<string[]> {
    const events = Array.from({ length: count }, (_, i) => ({
      type: types[(first + i) % types.length]!,
      mode: "test",
      data: paymentData(first + i),
    }));
    const answer = await this.call("POST", `/v1/merchants/${merchantId}/events/batch`, { events });
    if (answer.status !== 202) throw new Error(`batch: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.data.map((r: { id: string }) => r.id);
  }

  /**
   * Emits at a fixed rate (open loop) for `durationMs`, event i of type `typeOf(i)`. Answers when
   * each accepted event was sent and answered, by id, and the load run (its latencies are the emits').
   */
  async emitAtRate(
    merchantId: string,
    typeOf: (i: number) => string,
    perSecond: number,
    durationMs: number,
  ): Promise<{
    sentAt: Map<string, number>;
    answeredAt: Map<string, number>;
    types: Map<string, string>;
    run: LoadRun;
  }> {
    const sentAt = new Map<string, number>();
    const answeredAt = new Map<string, number>();
    const types = new Map<string, string>();
    let i = 0;
    const run = await fixedRate(
      async () => {
        const type = typeOf(i);
        const emitted = await this.emit(merchantId, type, i++);
        if (emitted.status !== 202) return false;
        sentAt.set(emitted.id!, emitted.sentAt);
        answeredAt.set(emitted.id!, preciseNow());
        types.set(emitted.id!, type);
        return true;
      },
      perSecond,
      durationMs,
    );
    return { sentAt, answeredAt, types, run };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
