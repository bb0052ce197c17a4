import { type HeraldOptions, type OperationId, type RequestOptions, Transport } from "./client.ts";
import type { Operations } from "./types.gen.ts";

type Query<Op extends OperationId> = Operations[Op]["query"];
type Body<Op extends OperationId> = Operations[Op]["body"];
type Answer<Op extends OperationId> = Operations[Op]["answer"];
type Item<Op extends OperationId> = Answer<Op> extends { data: (infer T)[] } ? T : never;

export interface EmitOptions extends RequestOptions {
  /**
   * Makes the emit safe to repeat: Herald answers a repeat with the first event and stores
   * nothing. One is generated when absent, so the SDK's own retries never emit twice.
   */
  idempotencyKey?: string;
}

/**
 * Herald's API as objects: `herald.events.emit(mid, { type, data })`. Every list has a `list`
 * (one page) and an `iterate` (every item, page after page, as an async iterator).
 */
export class Herald {
  readonly #transport: Transport;

  constructor(options: HeraldOptions) {
    this.#transport = new Transport(options);
  }

  #call<Op extends OperationId>(
    operation: Op,
    path: Record<string, string>,
    input: { query?: Query<Op>; body?: Body<Op>; headers?: Record<string, string>; retrySafe?: boolean },
    options?: RequestOptions,
  ): Promise<Answer<Op>> {
    return this.#transport.call(operation, { ...input, path, options });
  }

  #read<Op extends OperationId>(
    operation: Op,
    path: Record<string, string>,
    query?: Query<Op>,
    options?: RequestOptions,
  ) {
    return this.#call(operation, path, { query, retrySafe: true }, options);
  }

  /** Every item of a list, fetching the next page as the loop reaches it. */
  async *#pages<Op extends OperationId>(
    operation: Op,
    path: Record<string, string>,
    query: Query<Op> | undefined,
    options?: RequestOptions,
  ): AsyncGenerator<Item<Op>, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = (await this.#read(operation, path, { ...query, cursor } as Query<Op>, options)) as {
        data: Item<Op>[];
        next_cursor: string | null;
      };
      yield* page.data;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  readonly merchants = {
    create: (body: Body<"createMerchant">, options?: RequestOptions) =>
      this.#call("createMerchant", {}, { body }, options),
    list: (query?: Query<"listMerchants">, options?: RequestOptions) =>
      this.#read("listMerchants", {}, query, options),
    iterate: (query?: Query<"listMerchants">, options?: RequestOptions) =>
      this.#pages("listMerchants", {}, query, options),
    get: (mid: string, options?: RequestOptions) => this.#read("getMerchant", { mid }, undefined, options),
    update: (mid: string, body: Body<"updateMerchant">, options?: RequestOptions) =>
      this.#call("updateMerchant", { mid }, { body }, options),
    delete: (mid: string, options?: RequestOptions) => this.#call("deleteMerchant", { mid }, {}, options),
  };

  readonly apiKeys = {
    create: (mid: string, body: Body<"createApiKey">, options?: RequestOptions) =>
      this.#call("createApiKey", { mid }, { body }, options),
    list: (mid: string, query?: Query<"listApiKeys">, options?: RequestOptions) =>
      this.#read("listApiKeys", { mid }, query, options),
    iterate: (mid: string, query?: Query<"listApiKeys">, options?: RequestOptions) =>
      this.#pages("listApiKeys", { mid }, query, options),
    revoke: (mid: string, kid: string, options?: RequestOptions) =>
      this.#call("revokeApiKey", { mid, kid }, {}, options),
  };

  readonly endpoints = {
    create: (mid: string, body: Body<"createEndpoint">, options?: RequestOptions) =>
      this.#call("createEndpoint", { mid }, { body }, options),
    list: (mid: string, query?: Query<"listEndpoints">, options?: RequestOptions) =>
      this.#read("listEndpoints", { mid }, query, options),
    iterate: (mid: string, query?: Query<"listEndpoints">, options?: RequestOptions) =>
      this.#pages("listEndpoints", { mid }, query, options),
    get: (mid: string, eid: string, options?: RequestOptions) =>
      this.#read("getEndpoint", { mid, eid }, undefined, options),
    update: (mid: string, eid: string, body: Body<"updateEndpoint">, options?: RequestOptions) =>
      this.#call("updateEndpoint", { mid, eid }, { body }, options),
    delete: (mid: string, eid: string, options?: RequestOptions) =>
      this.#call("deleteEndpoint", { mid, eid }, {}, options),
    rotateSecret: (mid: string, eid: string, body?: Body<"rotateEndpointSecret">, options?: RequestOptions) =>
      this.#call("rotateEndpointSecret", { mid, eid }, { body }, options),
    test: (mid: string, eid: string, body?: Body<"testEndpoint">, options?: RequestOptions) =>
      this.#call("testEndpoint", { mid, eid }, { body }, options),
    recover: (mid: string, eid: string, body: Body<"recoverEndpoint">, options?: RequestOptions) =>
      this.#call("recoverEndpoint", { mid, eid }, { body }, options),
    stats: (mid: string, eid: string, query?: Query<"getEndpointStats">, options?: RequestOptions) =>
      this.#read("getEndpointStats", { mid, eid }, query, options),
    attempts: (mid: string, eid: string, query?: Query<"listEndpointAttempts">, options?: RequestOptions) =>
      this.#read("listEndpointAttempts", { mid, eid }, query, options),
    iterateAttempts: (
      mid: string,
      eid: string,
      query?: Query<"listEndpointAttempts">,
      options?: RequestOptions,
    ) => this.#pages("listEndpointAttempts", { mid, eid }, query, options),
  };

  readonly events = {
    /** Emits one event; retried on 503 and lost connections under one idempotency key. */
    emit: (mid: string, body: Body<"emitEvent">, options: EmitOptions = {}) => {
      const { idempotencyKey = crypto.randomUUID(), ...rest } = options;
      return this.#call(
        "emitEvent",
        { mid },
        { body, headers: { "idempotency-key": idempotencyKey }, retrySafe: true },
        rest,
      );
    },
    /**
     * Emits up to 1000 events; each answers on its own (an `error` where refused). Retried only
     * when every event carries an `idempotency_key`, since only then a repeat stores nothing twice.
     */
    emitBatch: (mid: string, body: Body<"emitEvents">, options?: RequestOptions) =>
      this.#call(
        "emitEvents",
        { mid },
        { body, retrySafe: body.events.every((e) => e.idempotency_key !== undefined) },
        options,
      ),
    list: (mid: string, query?: Query<"listEvents">, options?: RequestOptions) =>
      this.#read("listEvents", { mid }, query, options),
    iterate: (mid: string, query?: Query<"listEvents">, options?: RequestOptions) =>
      this.#pages("listEvents", { mid }, query, options),
    get: (mid: string, evid: string, options?: RequestOptions) =>
      this.#read("getEvent", { mid, evid }, undefined, options),
    resend: (mid: string, evid: string, body?: Body<"resendEvent">, options?: RequestOptions) =>
      this.#call("resendEvent", { mid, evid }, { body }, options),
  };

  readonly deliveries = {
    list: (mid: string, query?: Query<"listDeliveries">, options?: RequestOptions) =>
      this.#read("listDeliveries", { mid }, query, options),
    iterate: (mid: string, query?: Query<"listDeliveries">, options?: RequestOptions) =>
      this.#pages("listDeliveries", { mid }, query, options),
    get: (mid: string, did: string, options?: RequestOptions) =>
      this.#read("getDelivery", { mid, did }, undefined, options),
    retry: (mid: string, did: string, options?: RequestOptions) =>
      this.#call("retryDelivery", { mid, did }, {}, options),
  };

  readonly operations = {
    get: (mid: string, opid: string, options?: RequestOptions) =>
      this.#read("getOperation", { mid, opid }, undefined, options),
  };

  readonly stats = {
    merchant: (mid: string, query?: Query<"getMerchantStats">, options?: RequestOptions) =>
      this.#read("getMerchantStats", { mid }, query, options),
  };

  readonly retryPolicies = {
    list: (options?: RequestOptions) => this.#read("listRetryPolicies", {}, undefined, options),
  };
}
