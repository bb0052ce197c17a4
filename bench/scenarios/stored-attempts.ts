// A big attempt log: 1 M attempts (250 k events and deliveries, 4 attempts each, over 10
// endpoints), bulk-loaded with SQL as history. Listing one endpoint's attempts must stay fast, and
// emitting must not slow down by more than a fifth.
import { userAgent } from "@herald/dispatcher";
import { percentile, sustainedRate } from "../load.ts";
import { type Result, result, round } from "../results.ts";
import { type BenchContext, startStack } from "../stack.ts";

const endpointCount = 10;
const attemptsPerDelivery = 4;
const listLimit = 50;

// Ids shaped like TypeIDs (26 base32 characters, first one 0–7) whose leading zeros make them older
// than any id minted today, as history is.
const oldId = (prefix: string, n: string) => `'${prefix}_0' || lpad(to_hex(${n}), 25, '0')`;

const loadEvents = `
  INSERT INTO events (id, merchant_id, mode, type, body, created_at)
  SELECT ${oldId("evt", "g")}, $1, 'test', 'stored.e' || (g % ${endpointCount}),
         '{"id":"' || ${oldId("evt", "g")} || '","type":"stored.e' || (g % ${endpointCount}) ||
         '","created_at":"2026-01-01T00:00:00.000Z","data":{"payment_id":"pay_' || g ||
         '","amount":2500,"currency":"PKR","status":"succeeded","customer":{"email":"buyer@example.com","name":"Ayesha Khan"}}}',
         now() - interval '20 days' + g * interval '1 second'
  FROM generate_series(1, $2::int) g`;

const loadDeliveries = `
  INSERT INTO deliveries (id, merchant_id, mode, event_id, endpoint_id, event_type, status, attempt_count,
                          last_status, created_at, updated_at)
  SELECT ${oldId("dlv", "g")}, $1, 'test', ${oldId("evt", "g")}, ($3::text[])[1 + g % ${endpointCount}],
         'stored.e' || (g % ${endpointCount}), 'succeeded', ${attemptsPerDelivery}, 200,
         now() - interval '20 days' + g * interval '1 second', now()
  FROM generate_series(1, $2::int) g`;

const loadAttempts = `
  INSERT INTO attempts (id, delivery_id, endpoint_id, number, trigger, scheduled_at, started_at, duration_ms,
                        request_url, request_headers, response_status, response_headers, response_body, error)
  SELECT ${oldId("att", `g * ${attemptsPerDelivery} + k`)}, ${oldId("dlv", "g")},
         ($2::text[])[1 + g % ${endpointCount}], k + 1, 'scheduled', at, at + interval '3 ms', 42,
         $3 || (g % ${endpointCount}), $4::jsonb,
         CASE WHEN k < ${attemptsPerDelivery - 1} THEN 500 ELSE 200 END, '{"content-type":"text/plain"}',
         CASE WHEN k < ${attemptsPerDelivery - 1} THEN 'not yet' ELSE 'ok' END,
         CASE WHEN k < ${attemptsPerDelivery - 1} THEN 'http_status' END
  FROM generate_series(1, $1::int) g, generate_series(0, ${attemptsPerDelivery - 1}) k,
       LATERAL (SELECT now() - interval '20 days' + g * interval '1 second' + k * interval '3 minutes' AS at) t`;

const sentHeaders = JSON.stringify({
  "content-type": "application/json",
  "user-agent": userAgent,
  "webhook-id": "evt_01kbz6d9q1f5x8r4m2n7c3v0hy",
  "webhook-timestamp": "1767225600",
  "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
});

export async function storedAttempts(ctx: BenchContext): Promise<Result[]> {
  const { sizes } = ctx;
  const stack = await startStack(ctx, "stored-attempts");
  try {
    const merchant = await stack.api.createMerchant("Bench history");
    const endpoints: string[] = [];
    for (let i = 0; i < endpointCount; i++) {
      endpoints.push(
        await stack.api.createEndpoint(merchant, {
          url: `${ctx.receiver.url}/stored/${i}`,
          event_types: [`stored.e${i}`],
        }),
      );
    }
    const listed = endpoints[1]!;
    const listPath = await attemptListPath(stack.api.url, merchant, listed);
    let n = 0;
    const emit = async () => (await stack.api.emit(merchant, "stored.e0", n++)).status === 202;
    const emitLoad = { ...sizes.emitLoad, runs: Math.max(3, sizes.emitLoad.runs - 2) };

    ctx.log("stored attempts: emit rate on an empty log");
    const before = await sustainedRate(emit, emitLoad);

    const deliveries = Math.round(sizes.storedAttempts / attemptsPerDelivery);
    ctx.log(`stored attempts: loading ${sizes.storedAttempts.toLocaleString("en-US")} attempts`);
    const loadStarted = performance.now();
    await stack.db.query(loadEvents, [merchant, deliveries]);
    await stack.db.query(loadDeliveries, [merchant, deliveries, endpoints]);
    await stack.db.query(loadAttempts, [deliveries, endpoints, `${ctx.receiver.url}/stored/`, sentHeaders]);
    // As autovacuum would soon after: fresh statistics for the planner.
    await stack.db.query("VACUUM ANALYZE events, deliveries, attempts");
    const loadSeconds = round((performance.now() - loadStarted) / 1000);
    const { rows: counted } = await stack.db.query<{ n: number }>("SELECT count(*)::int AS n FROM attempts");

    ctx.log(`stored attempts: ${sizes.listRequests} lists of one endpoint's attempts`);
    const listLatencies: number[] = [];
    for (let i = 0; i < sizes.listRequests + 20; i++) {
      const t = performance.now();
      const answer = await stack.api.call("GET", listPath);
      if (answer.status !== 200 || answer.body.data.length !== listLimit)
        throw new Error(`list: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      if (i >= 20) listLatencies.push(performance.now() - t);
    }
    const { rows: plan } = await stack.db.query<{ "QUERY PLAN": string }>(
      "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM attempts WHERE endpoint_id = $1 ORDER BY id DESC LIMIT 51",
      [listed],
    );

    ctx.log("stored attempts: emit rate on the full log");
    const after = await sustainedRate(emit, emitLoad);

    const shared = {
      attempts: counted[0]!.n,
      deliveries,
      endpoints: endpointCount,
      attempts_of_listed_endpoint: Math.round(counted[0]!.n / endpointCount),
      load_seconds: loadSeconds,
    };
    const emptyRate = result("stored-attempts-emit-before", before.rate, "events/s", {
      params: { attempts: 0, runs: before.rates, concurrency: emitLoad.concurrency },
    });
    return [
      result("stored-attempts-list-p99", round(percentile(listLatencies, 99), 2), "ms", {
        target: { text: "≤ 20 ms", on: "value", max: 20 },
        params: {
          ...shared,
          route: listPath.replace(merchant, "{mid}").replace(listed, "{eid}"),
          page_size: listLimit,
          requests: listLatencies.length,
          p50_ms: round(percentile(listLatencies, 50), 2),
          sql_plan: plan.map((row) => row["QUERY PLAN"]),
        },
      }),
      emptyRate,
      result("stored-attempts-emit-after", after.rate, "events/s", {
        baseline: emptyRate,
        target: { text: "drop ≤ 20 % (ratio ≥ 0.8)", on: "ratio", min: 0.8 },
        params: { ...shared, runs: after.rates, concurrency: emitLoad.concurrency },
      }),
    ];
  } finally {
    await stack.stop();
  }
}

/** The endpoint attempt log route when the API has one, else the endpoint's deliveries. */
async function attemptListPath(apiUrl: string, merchant: string, endpoint: string): Promise<string> {
  const openapi = (await (await fetch(`${apiUrl}/openapi.json`)).json()) as {
    paths: Record<string, unknown>;
  };
  const route = Object.keys(openapi.paths).find((p) => /\/endpoints\/\{[^}]+\}\/attempts$/.test(p));
  if (route) {
    return `${route.replace(/\{mid\}|\{merchant_id\}/, merchant).replace(/\{[^}]+\}\/attempts$/, `${endpoint}/attempts`)}?limit=${listLimit}`;
  }
  return `/v1/merchants/${merchant}/deliveries?endpoint_id=${endpoint}&limit=${listLimit}`;
}
