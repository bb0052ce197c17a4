import { openSecret } from "@herald/core";
import { attemptSeries, getEndpoint, merchantEventTypes } from "@herald/db";
import type { FastifyRequest } from "fastify";
import type { HeraldApp } from "../app.ts";
import { copyButton, type Html, html, page, pretty, time } from "./html.ts";
import {
  callApi,
  checkCsrf,
  mpath,
  navFor,
  ok,
  redirect,
  requireSession,
  scopeOf,
  UiError,
  type UiSession,
} from "./session.ts";

// biome-ignore lint/suspicious/noExplicitAny: API objects as documented in views.ts
type Obj = any;
type Form = Record<string, string | string[] | undefined>;

const api = (mid: string, rest = "") => `/v1/merchants/${encodeURIComponent(mid)}${rest}`;
const seg = encodeURIComponent;

function params(request: FastifyRequest) {
  return request.params as { mid: string; eid: string };
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The endpoint form's fields as the API's JSON body; blank optional fields are left out. */
function endpointBody(form: Form, creating: boolean) {
  const text = (name: string) => (typeof form[name] === "string" ? (form[name] as string).trim() : "");
  const types = [
    ...list(form.event_types),
    ...text("other_types")
      .split(/[\s,]+/)
      .filter(Boolean),
  ];
  const headers: Record<string, string> = {};
  for (const line of text("headers").split(/\r?\n/)) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    if (at <= 0)
      throw new UiError(400, `Write each header as "Name: value" ("${line.slice(0, 40)}").`, "headers");
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  const body: Record<string, unknown> = {
    url: text("url"),
    description: text("description"),
    event_types: [...new Set(types)],
    headers,
  };
  if (text("retry_policy")) body.retry_policy = text("retry_policy");
  if (text("timeout_seconds")) {
    const seconds = Number(text("timeout_seconds"));
    if (!Number.isFinite(seconds))
      throw new UiError(400, "The timeout is a number of seconds.", "timeout_ms");
    body.timeout_ms = Math.round(seconds * 1000);
  }
  if (text("rate_limit_per_second")) {
    const rate = Number(text("rate_limit_per_second"));
    if (!Number.isFinite(rate))
      throw new UiError(400, "The rate limit is a number of deliveries per second.", "rate_limit_per_second");
    body.rate_limit_per_second = rate;
  } else if (!creating) body.rate_limit_per_second = null;
  if (text("ordering")) body.ordering = text("ordering");
  if (creating) {
    if (text("signature_scheme")) body.signature_scheme = text("signature_scheme");
    if (text("mode")) body.mode = text("mode");
  }
  return body;
}

function health(stats: Obj, last: Obj | undefined, endpoint: Obj): Html {
  const rate = stats?.attempts?.success_rate;
  const rateText =
    rate === null || rate === undefined
      ? "no attempts in 24 h"
      : `${Math.round(rate * 1000) / 10} % ok (24 h)`;
  const state = !endpoint.enabled
    ? "bad"
    : rate === null || rate === undefined
      ? "none"
      : rate >= 0.95
        ? "good"
        : "warn";
  return html`<span class="health ${state}">${endpoint.enabled ? rateText : `disabled: ${endpoint.disabled_reason ?? "by hand"}`}</span>
    ${last ? html`<br><span class="muted">last attempt ${time(last.started_at)} · ${last.response_status ?? last.error}</span>` : ""}`;
}

function endpointForm(
  session: UiSession,
  eventTypes: string[],
  values: Obj,
  action: string,
  creating: boolean,
  error?: UiError,
): Html {
  const chosen = new Set<string>(values.event_types ?? []);
  const offered = [...new Set([...eventTypes, ...chosen])].sort();
  // As typed when the form comes back with an error; else the endpoint's own headers.
  const headerText =
    typeof values.headers === "string"
      ? values.headers
      : Object.entries(values.headers ?? {})
          .map(([k, v]) => `${k}: ${v}`)
          .join("\n");
  const timeout = values.timeout_seconds ?? (values.timeout_ms ? values.timeout_ms / 1000 : "");
  const policy = typeof values.retry_policy === "string" ? values.retry_policy : "";
  const rateLimit = values.rate_limit_per_second ?? "";
  return html`<form method="post" action="${action}" class="card">
  ${error && html`<p class="error" role="alert">${error.message}${error.field ? html` (field <code>${error.field}</code>)` : ""}</p>`}
  <input type="hidden" name="_csrf" value="${session.csrf}">
  <label for="url">URL</label>
  <input id="url" name="url" type="url" required value="${values.url ?? ""}" placeholder="https://example.com/webhooks">
  <label for="description">Description</label>
  <input id="description" name="description" value="${values.description ?? ""}">
  <fieldset><legend>Event types (none chosen: every type)</legend>
    ${
      offered.length
        ? offered.map(
            (t) =>
              html`<label class="check"><input type="checkbox" name="event_types" value="${t}" ${chosen.has(t) ? "checked" : ""}> ${t}</label>`,
          )
        : html`<p class="hint">No events sent yet in this mode: type the event types below.</p>`
    }
    <label for="other_types">Other types (comma separated; <code>payment.*</code> for a prefix)</label>
    <input id="other_types" name="other_types" value="">
  </fieldset>
  ${
    creating &&
    html`${
      session.operator &&
      html`<label for="mode">Mode</label>
    <select id="mode" name="mode"><option value="live">live</option><option value="test" ${values.mode === "test" ? "selected" : ""}>test</option></select>`
    }
  <label for="signature_scheme">Signature scheme</label>
  <select id="signature_scheme" name="signature_scheme">
    <option value="standard">standard (Standard Webhooks)</option>
    <option value="hmac-sha256-hex">hmac-sha256-hex</option>
    <option value="hmac-sha512-hex">hmac-sha512-hex</option>
  </select>`
  }
  <label for="retry_policy">Retry policy</label>
  <select id="retry_policy" name="retry_policy">
    <option value="">${creating ? "the mode's default" : "unchanged"}</option>
    ${["live", "test", "exponential"].map((p) => html`<option value="${p}" ${policy === p ? "selected" : ""}>${p}</option>`)}
  </select>
  <label for="headers">Custom headers (one "Name: value" per line)</label>
  <textarea id="headers" name="headers" rows="3">${headerText}</textarea>
  <label for="timeout_seconds">Timeout (seconds, 1–30)</label>
  <input id="timeout_seconds" name="timeout_seconds" type="number" min="1" max="30" step="1" value="${timeout}">
  <label for="rate_limit_per_second">Rate limit (deliveries per second; empty: none)</label>
  <input id="rate_limit_per_second" name="rate_limit_per_second" type="number" min="0" max="10000" step="any" value="${rateLimit}">
  <label for="ordering">Ordering</label>
  <select id="ordering" name="ordering">
    <option value="parallel">parallel (fastest)</option>
    <option value="fifo" ${values.ordering === "fifo" ? "selected" : ""}>FIFO (one at a time, in event order; a failing delivery holds the rest back)</option>
  </select>
  <button type="submit" class="primary" ${session.readOnly ? "disabled" : ""}>${creating ? "Add endpoint" : "Save"}</button>
</form>`;
}

function verifySnippets(scheme: string, header: string): Html {
  if (scheme === "standard") {
    return html`<details><summary>Verify signatures (Standard Webhooks)</summary>
<h4>Node</h4><pre>import { Webhook } from "standardwebhooks";
const wh = new Webhook(process.env.WEBHOOK_SECRET); // whsec_…
// rawBody: the request body exactly as received (a string or Buffer)
const event = wh.verify(rawBody, {
  "webhook-id": req.headers["webhook-id"],
  "webhook-timestamp": req.headers["webhook-timestamp"],
  "webhook-signature": req.headers["webhook-signature"],
});</pre>
<h4>Python</h4><pre>from standardwebhooks.webhooks import Webhook
wh = Webhook(os.environ["WEBHOOK_SECRET"])
event = wh.verify(raw_body, dict(request.headers))</pre>
<h4>PHP</h4><pre>$wh = new \\StandardWebhooks\\Webhook(getenv('WEBHOOK_SECRET'));
$event = $wh-&gt;verify($rawBody, getallheaders());</pre></details>`;
  }
  const algo = scheme === "hmac-sha512-hex" ? "sha512" : "sha256";
  return html`<details><summary>Verify signatures (${scheme}, header ${header})</summary>
<h4>Node</h4><pre>import { createHmac, timingSafeEqual } from "node:crypto";
const expected = createHmac("${algo}", process.env.WEBHOOK_SECRET).update(rawBody).digest("hex");
const given = req.headers["${header}"] ?? "";
const ok = given.length === expected.length &amp;&amp; timingSafeEqual(Buffer.from(given), Buffer.from(expected));</pre>
<h4>Python</h4><pre>import hmac, hashlib, os
expected = hmac.new(os.environ["WEBHOOK_SECRET"].encode(), raw_body, hashlib.${algo}).hexdigest()
ok = hmac.compare_digest(expected, request.headers.get("${header}", ""))</pre>
<h4>PHP</h4><pre>$expected = hash_hmac('${algo}', $rawBody, getenv('WEBHOOK_SECRET'));
$ok = hash_equals($expected, $_SERVER['HTTP_${header.toUpperCase().replace(/-/g, "_")}'] ?? '');</pre></details>`;
}

/** One attempt, as the test button and the timeline show it. */
export function attemptCard(a: Obj, withRequest: boolean): Html {
  const ok = a.error === null;
  return html`<article class="attempt ${ok ? "ok" : "failed"}">
  <header><strong>#${a.number}</strong> ${a.trigger}
    · <span class="status">${a.response_status ?? "no response"}</span>
    ${a.error && html`· <span class="error-class">${a.error}</span>`}
    · ${a.duration_ms} ms</header>
  <dl>
    <dt>Scheduled</dt><dd>${time(a.scheduled_at)}</dd>
    <dt>Started</dt><dd>${time(a.started_at)}</dd>
    ${a.error_detail && html`<dt>Error</dt><dd>${a.error_detail}</dd>`}
  </dl>
  ${
    withRequest &&
    html`<details><summary>Request</summary><p>POST ${a.request.url}</p>
    <pre>${Object.entries(a.request.headers ?? {}).map(([k, v]) => `${k}: ${v}\n`)}</pre>
    ${a.request.body !== undefined && html`<pre class="json">${pretty(a.request.body)}</pre>`}</details>`
  }
  <details ${ok ? "" : "open"}><summary>Response</summary>
    <pre>${Object.entries(a.response_headers ?? {}).map(([k, v]) => `${k}: ${v}\n`)}</pre>
    <pre class="json">${pretty(a.response_body)}</pre></details>
</article>`;
}

/** Endpoints: list with health, add, edit, enable/disable, delete, secret, test, recover, charts. */
export async function endpointPages(app: HeraldApp) {
  const { db, encryptionKey, config } = app.herald;

  app.get("/merchants/:mid", async (request, reply) =>
    redirect(reply, mpath(params(request).mid, "/endpoints")),
  );

  app.get("/merchants/:mid/endpoints", async (request, reply) => {
    const session = requireSession(request);
    const { mid } = params(request);
    const cursor = (request.query as { cursor?: string }).cursor;
    const listed = ok(
      await callApi(
        app,
        session,
        "GET",
        `${api(mid, "/endpoints")}?limit=50${cursor ? `&cursor=${seg(cursor)}` : ""}`,
      ),
    );
    const rows = await Promise.all(
      listed.data.map(async (e: Obj) => {
        const [stats, attempts] = await Promise.all([
          callApi(app, session, "GET", api(mid, `/endpoints/${seg(e.id)}/stats`)),
          callApi(app, session, "GET", api(mid, `/endpoints/${seg(e.id)}/attempts?limit=1`)),
        ]);
        return html`<tr>
  <td><a href="${mpath(mid, `/endpoints/${seg(e.id)}`)}">${e.url}</a><br><span class="muted">${e.description}</span></td>
  <td>${e.mode} mode</td>
  <td>${e.event_types.length ? e.event_types.join(", ") : "every type"}</td>
  <td>${health(stats.body, attempts.body?.data?.[0], e)}</td>
</tr>`;
      }),
    );
    const body = html`<p><a class="button primary" href="${mpath(mid, "/endpoints/new")}">Add endpoint</a></p>
${
  rows.length
    ? html`<div class="table"><table><thead><tr><th>URL</th><th>Mode</th><th>Event types</th><th>Health</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p class="empty">No endpoints yet. Add the URL where your server receives webhooks, pick the event types, then send a test.</p>`
}
${listed.next_cursor && html`<p><a href="?cursor=${listed.next_cursor}">Next page →</a></p>`}`;
    return reply.type("text/html").send(page("Endpoints", body, navFor(session, mid)).text);
  });

  async function formTypes(session: UiSession, mid: string) {
    return merchantEventTypes(db, scopeOf(session, mid));
  }

  app.get("/merchants/:mid/endpoints/new", async (request, reply) => {
    const session = requireSession(request);
    const { mid } = params(request);
    // Whether this session may see the merchant at all: the API decides.
    ok(await callApi(app, session, "GET", `${api(mid, "/endpoints")}?limit=1`));
    const form = endpointForm(session, await formTypes(session, mid), {}, mpath(mid, "/endpoints"), true);
    return reply.type("text/html").send(page("Add endpoint", form, navFor(session, mid)).text);
  });

  app.post("/merchants/:mid/endpoints", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    const { mid } = params(request);
    const form = request.body as Form;
    try {
      const body = endpointBody(form, true);
      const created = ok(await callApi(app, session, "POST", api(mid, "/endpoints"), body));
      return redirect(reply, mpath(mid, `/endpoints/${seg(created.id)}`));
    } catch (error) {
      if (!(error instanceof UiError) || error.status !== 400) throw error;
      const values = { ...form, event_types: list(form.event_types) };
      const refused = endpointForm(
        session,
        await formTypes(session, mid),
        values,
        mpath(mid, "/endpoints"),
        true,
        error,
      );
      return reply
        .code(400)
        .type("text/html")
        .send(page("Add endpoint", refused, navFor(session, mid)).text);
    }
  });

  async function endpointPage(request: FastifyRequest, error?: UiError, notice?: Html) {
    const session = requireSession(request);
    const { mid, eid } = params(request);
    const e = ok(await callApi(app, session, "GET", api(mid, `/endpoints/${seg(eid)}`)));
    const attempts = ok(
      await callApi(app, session, "GET", api(mid, `/endpoints/${seg(eid)}/attempts?limit=10`)),
    );
    const base = mpath(mid, `/endpoints/${seg(eid)}`);
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
    const disabled = session.readOnly ? "disabled" : "";
    const until = new Date();
    const since = new Date(until.getTime() - 86_400_000);
    const body = html`${notice}
<section class="card">
  <p><strong>${e.url}</strong> ${copyButton(e.id, "Copy id")}</p>
  <p class="muted">${e.id} · ${e.mode} mode · ${e.signature_scheme} · ${e.enabled ? "enabled" : html`<span class="health bad">disabled: ${e.disabled_reason ?? ""}</span>`}</p>
  <div class="actions">
    <form method="post" action="${base}/${e.enabled ? "disable" : "enable"}" class="inline">${csrf}<button type="submit" ${disabled}>${e.enabled ? "Disable" : "Enable"}</button></form>
    <form method="post" action="${base}/delete" class="inline" data-confirm="Delete this endpoint? Its pending deliveries are cancelled.">${csrf}<button type="submit" class="danger" ${disabled}>Delete</button></form>
    <a class="button" href="${mpath(mid, `/deliveries?endpoint_id=${seg(eid)}`)}">Deliveries</a>
  </div>
</section>
<section class="card">
  <h2>Send test webhook</h2>
  <form method="post" action="${base}/test" hx-post="${base}/test" hx-target="#test-result" hx-disabled-elt="find button" class="inline">
    ${csrf}<button type="submit" class="primary" ${disabled}>Send test webhook</button><span class="loading">Sending…</span>
  </form>
  <div id="test-result" aria-live="polite"></div>
</section>
<section class="card">
  <h2>Signing secret</h2>
  <div id="secret"><form method="post" action="${base}/secret" hx-post="${base}/secret" hx-target="#secret" class="inline">${csrf}<button type="submit" ${disabled}>Reveal secret</button></form></div>
  <form method="post" action="${base}/rotate" class="inline" data-confirm="Rotate the secret? The old one keeps signing for the grace period.">
    ${csrf}<label for="grace">Grace period (hours)</label>
    <input id="grace" name="grace_period_hours" type="number" min="0" max="168" value="24">
    <button type="submit" ${disabled}>Rotate</button>
  </form>
  ${verifySnippets(e.signature_scheme, config.signatureHeader)}
</section>
<section class="card">
  <h2>Charts (24 h)</h2>
  <div class="chart" data-chart="${base}/chart.json" data-kind="attempts" role="img" aria-label="Attempts and success rate over time"></div>
  <div class="chart" data-chart="${base}/chart.json" data-kind="latency" role="img" aria-label="Latency p50 and p95"></div>
</section>
<section class="card">
  <h2>Recover failed deliveries</h2>
  <form method="post" action="${base}/recover">
    ${csrf}
    <label for="since">Since (<span class="tz">UTC</span>)</label><input id="since" name="since" type="datetime-local" data-utc step="1" required value="${since.toISOString().slice(0, 19)}">
    <label for="until">Until (<span class="tz">UTC</span>; empty: now)</label><input id="until" name="until" type="datetime-local" data-utc step="1" value="">
    <button type="submit" ${disabled}>Recover</button>
  </form>
</section>
<section class="card">
  <h2>Recent attempts</h2>
  ${
    attempts.data.length
      ? attempts.data.map(
          (a: Obj) =>
            html`<p><a href="${mpath(mid, `/deliveries/${seg(a.delivery_id)}`)}">${a.event_type}</a> · ${a.response_status ?? a.error} · ${a.duration_ms} ms · ${time(a.started_at)}</p>`,
        )
      : html`<p class="empty">No attempts yet: send a test webhook above.</p>`
  }
</section>
<h2>Settings</h2>
${endpointForm(session, await formTypes(session, mid), e, base, false, error)}
<script src="/ui/assets/uPlot.iife.min.js" defer></script>
<script src="/ui/assets/charts.js" defer></script>
<link rel="stylesheet" href="/ui/assets/uPlot.min.css">`;
    return page(e.description || "Endpoint", body, navFor(session, mid)).text;
  }

  app.get("/merchants/:mid/endpoints/:eid", async (request, reply) =>
    reply.type("text/html").send(await endpointPage(request)),
  );

  app.post("/merchants/:mid/endpoints/:eid", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    const { mid, eid } = params(request);
    try {
      ok(
        await callApi(
          app,
          session,
          "PATCH",
          api(mid, `/endpoints/${seg(eid)}`),
          endpointBody(request.body as Form, false),
        ),
      );
    } catch (error) {
      if (!(error instanceof UiError) || error.status !== 400) throw error;
      return reply
        .code(400)
        .type("text/html")
        .send(await endpointPage(request, error));
    }
    return redirect(reply, mpath(mid, `/endpoints/${seg(eid)}`));
  });

  for (const [action, patch] of [
    ["enable", { enabled: true }],
    ["disable", { enabled: false }],
  ] as const) {
    app.post(`/merchants/:mid/endpoints/:eid/${action}`, async (request, reply) => {
      const session = requireSession(request);
      checkCsrf(request, session);
      const { mid, eid } = params(request);
      ok(await callApi(app, session, "PATCH", api(mid, `/endpoints/${seg(eid)}`), patch));
      return redirect(reply, mpath(mid, `/endpoints/${seg(eid)}`));
    });
  }

  app.post("/merchants/:mid/endpoints/:eid/delete", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    const { mid, eid } = params(request);
    ok(await callApi(app, session, "DELETE", api(mid, `/endpoints/${seg(eid)}`)));
    return redirect(reply, mpath(mid, "/endpoints"));
  });

  app.post("/merchants/:mid/endpoints/:eid/test", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    const { mid, eid } = params(request);
    const sent = ok(await callApi(app, session, "POST", api(mid, `/endpoints/${seg(eid)}/test`)));
    const result = sent.attempt
      ? html`${attemptCard(sent.attempt, false)}<p><a href="${mpath(mid, `/deliveries/${seg(sent.delivery_id)}`)}">Open the delivery</a></p>`
      : html`<p>No attempt yet; <a href="${mpath(mid, `/deliveries/${seg(sent.delivery_id)}`)}">follow the delivery</a>.</p>`;
    if (request.headers["hx-request"]) return reply.type("text/html").send(result.text);
    return reply.type("text/html").send(page("Test webhook", result, navFor(session, mid)).text);
  });

  app.post("/merchants/:mid/endpoints/:eid/secret", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    if (session.readOnly) throw new UiError(403, "This session is read-only.");
    const { mid, eid } = params(request);
    // The API decides whether this session may see the endpoint; the secret is then read from it.
    ok(await callApi(app, session, "GET", api(mid, `/endpoints/${seg(eid)}`)));
    const endpoint = await getEndpoint(db, scopeOf(session, mid), eid);
    if (!endpoint) throw new UiError(404, "No such endpoint.");
    const secret = openSecret(encryptionKey, endpoint.secrets[0]!.secret);
    const shown = html`<p><code class="secret">${secret}</code> ${copyButton(secret)}</p>`;
    if (request.headers["hx-request"]) return reply.type("text/html").send(shown.text);
    return reply.type("text/html").send(page("Signing secret", shown, navFor(session, mid)).text);
  });

  app.post("/merchants/:mid/endpoints/:eid/rotate", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    const { mid, eid } = params(request);
    const hours = Number((request.body as Form).grace_period_hours ?? 24);
    const rotated = ok(
      await callApi(app, session, "POST", api(mid, `/endpoints/${seg(eid)}/rotate-secret`), {
        grace_period_hours: Number.isFinite(hours) ? hours : 24,
      }),
    );
    const notice = html`<p class="notice" role="status">New secret: <code class="secret">${rotated.secret}</code> ${copyButton(rotated.secret)}
      ${rotated.previous_secrets_expire_at ? html`· previous secrets sign until ${time(rotated.previous_secrets_expire_at)}` : ""}</p>`;
    return reply.type("text/html").send(await endpointPage(request, undefined, notice));
  });

  app.post("/merchants/:mid/endpoints/:eid/recover", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    const { mid, eid } = params(request);
    const form = request.body as Form;
    const iso = (value: unknown) =>
      typeof value === "string" && value ? new Date(`${value}Z`).toISOString() : undefined;
    let window: { since?: string; until?: string };
    try {
      window = { since: iso(form.since), until: iso(form.until) };
    } catch {
      throw new UiError(400, "since and until are dates and times.", "since");
    }
    const started = ok(
      await callApi(app, session, "POST", api(mid, `/endpoints/${seg(eid)}/recover`), window),
    );
    return redirect(reply, mpath(mid, `/operations/${seg(started.id)}`));
  });

  app.get("/merchants/:mid/endpoints/:eid/chart.json", async (request, reply) => {
    const session = requireSession(request);
    const { mid, eid } = params(request);
    const endpoint = ok(await callApi(app, session, "GET", api(mid, `/endpoints/${seg(eid)}`)));
    const until = new Date();
    const since = new Date(until.getTime() - 86_400_000);
    const points = await attemptSeries(db, endpoint.id, { since, until }, 1800);
    return reply.send({
      since: since.toISOString(),
      until: until.toISOString(),
      bucket_seconds: 1800,
      points,
    });
  });
}
