import { attemptSeries, merchantEventTypes } from "@herald/db";
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
  // Entries, not assignments: a line may name `__proto__`.
  const headers = Object.fromEntries(
    text("headers")
      .split(/\r?\n/)
      .filter((line) => line.trim())
      .map((line) => {
        const at = line.indexOf(":");
        if (at <= 0)
          throw new UiError(400, `Write each header as "Name: value" ("${line.slice(0, 40)}").`, "headers");
        return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
      }),
  );
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
  // Only an operator's form has the profile field (only the admin key may list profiles); an
  // unchanged choice is not sent, so saving other settings does not re-check the URL against it.
  if (typeof form.profile === "string" && text("profile") !== text("profile_was")) {
    if (creating) body.profile = text("profile");
    else body.profile = text("profile") || null;
  }
  return body;
}

/** What the endpoint form offers beyond the types this merchant's events use. */
interface FormChoices {
  /** The catalog's types (GET /v1/event-types) with their descriptions; absent: no catalog in force. */
  catalog?: Map<string, string>;
  /** The delivery profiles an operator may choose from; absent for a merchant's session. */
  profiles?: string[];
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
  choices: FormChoices = {},
): Html {
  const chosen = new Set<string>(values.event_types ?? []);
  const { catalog, profiles } = choices;
  // With a catalog, it is what a merchant chooses from; without one, the types its events use.
  const offered = [...new Set([...(catalog ? catalog.keys() : eventTypes), ...chosen])].sort();
  const profileNow: string = values.profile ?? "";
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
  <fieldset><legend>Event types ${catalog ? "from the catalog " : ""}(none chosen: every type)</legend>
    ${
      offered.length
        ? offered.map(
            (t) =>
              html`<label class="check" ${catalog?.get(t) ? html`title="${catalog.get(t)}"` : ""}><input type="checkbox" name="event_types" value="${t}" ${chosen.has(t) ? "checked" : ""}> ${t}${catalog?.get(t) ? html` <span class="muted">— ${catalog.get(t)}</span>` : ""}</label>`,
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
    <option value="">the delivery profile's</option>
    ${[
      ["standard", "standard (Standard Webhooks, shared whsec_ secret)"],
      ["standard-ed25519", "standard-ed25519 (Standard Webhooks v1a, whpk_ public key)"],
      ["hmac-sha256-hex", "hmac-sha256-hex"],
      ["hmac-sha512-hex", "hmac-sha512-hex"],
    ].map(
      ([value, label]) =>
        html`<option value="${value}" ${values.signature_scheme === value ? "selected" : ""}>${label}</option>`,
    )}
  </select>`
  }
  ${
    profiles &&
    html`<label for="profile">Delivery profile</label>
  <select id="profile" name="profile">
    <option value="">the merchant's</option>
    ${profiles.map((name) => html`<option value="${name}" ${profileNow === name ? "selected" : ""}>${name}</option>`)}
  </select>
  <input type="hidden" name="profile_was" value="${creating ? "" : profileNow}">`
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
  if (scheme === "standard-ed25519") {
    return html`<details><summary>Verify signatures (Standard Webhooks v1a, Ed25519)</summary>
<p>Verify with the public key above; the signing key never leaves Herald.</p>
<h4>Node</h4><pre>import { verify } from "@herald/verify";
// rawBody: the request body exactly as received; the scheme follows from the whpk_ prefix
const event = await verify(rawBody, req.headers, { secret: process.env.WEBHOOK_PUBLIC_KEY }); // whpk_…</pre>
<h4>Python</h4><pre>import base64, os
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
key = Ed25519PublicKey.from_public_bytes(base64.b64decode(os.environ["WEBHOOK_PUBLIC_KEY"][5:]))
signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + raw_body
# any one v1a signature that verifies is enough (two during a rotation); key.verify raises otherwise
for sig in headers["webhook-signature"].split(" "):
    if sig.startswith("v1a,"): key.verify(base64.b64decode(sig[4:]), signed)</pre>
<h4>PHP</h4><pre>$key = base64_decode(substr(getenv('WEBHOOK_PUBLIC_KEY'), 5));
$signed = $_SERVER['HTTP_WEBHOOK_ID'] . '.' . $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] . '.' . $rawBody;
$ok = false;
foreach (explode(' ', $_SERVER['HTTP_WEBHOOK_SIGNATURE']) as $sig)
  if (str_starts_with($sig, 'v1a,')) $ok = $ok || sodium_crypto_sign_verify_detached(base64_decode(substr($sig, 4)), $signed, $key);</pre>
<p class="hint">Check <code>webhook-timestamp</code> is within 5 minutes of now, too.</p></details>`;
  }
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

const asymmetric = (e: Obj) => e.signature_scheme === "standard-ed25519";

/**
 * The endpoint's keys: for `standard-ed25519` its public keys, always shown (they are public), the
 * previous ones with the time they stop signing; for the other schemes the secret, revealed on request.
 */
function signingKeys(e: Obj, base: string, csrf: Html, disabled: string): Html {
  if (!asymmetric(e))
    return html`<h2>Signing secret</h2>
  <div id="secret"><form method="post" action="${base}/secret" hx-post="${base}/secret" hx-target="#secret" class="inline">${csrf}<button type="submit" ${disabled}>Reveal secret</button></form></div>`;
  const keys: Obj[] = e.public_keys?.length ? e.public_keys : [{ key: e.public_key, expires_at: null }];
  return html`<h2>Public key</h2>
  <p class="hint">Deliveries carry <code>webhook-signature: v1a,…</code>, one per key below; verify with the public key. Herald keeps the signing key.</p>
  <ul class="public-keys">${keys.map(
    (k) =>
      html`<li><code class="public-key">${k.key}</code> ${copyButton(k.key)}${k.expires_at ? html` <span class="muted">previous key, signs until ${time(k.expires_at)}</span>` : ""}</li>`,
  )}</ul>`;
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
  const { db, config } = app.herald;

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

  /**
   * The catalog's types and, for an operator, the profiles, read through the API as this session.
   * A deployment without the catalog route, or with an empty catalog, offers the used types instead.
   */
  async function formChoices(session: UiSession): Promise<FormChoices> {
    const choices: FormChoices = {};
    const catalog = new Map<string, string>();
    let cursor: string | null = null;
    // A few pages at most: a picker of more than 500 types would not be a picker.
    for (let page = 0; page < 5; page++) {
      const listed = await callApi(
        app,
        session,
        "GET",
        `/v1/event-types?limit=100${cursor ? `&cursor=${seg(cursor)}` : ""}`,
      );
      if (listed.status !== 200 || !Array.isArray(listed.body?.data)) break;
      for (const t of listed.body.data as Obj[])
        if (typeof t.name === "string")
          catalog.set(t.name, typeof t.description === "string" ? t.description : "");
      cursor = listed.body.next_cursor ?? null;
      if (!cursor) break;
    }
    if (catalog.size) choices.catalog = catalog;
    if (session.operator) {
      const profiles = await callApi(app, session, "GET", "/v1/profiles");
      if (profiles.status === 200)
        choices.profiles = (profiles.body.data as Obj[]).map((p) => String(p.name));
    }
    return choices;
  }

  app.get("/merchants/:mid/endpoints/new", async (request, reply) => {
    const session = requireSession(request);
    const { mid } = params(request);
    // Whether this session may see the merchant at all: the API decides.
    ok(await callApi(app, session, "GET", `${api(mid, "/endpoints")}?limit=1`));
    const form = endpointForm(
      session,
      await formTypes(session, mid),
      {},
      mpath(mid, "/endpoints"),
      true,
      undefined,
      await formChoices(session),
    );
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
        await formChoices(session),
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
  <p class="muted">${e.id} · ${e.mode} mode · ${e.signature_scheme} · profile ${e.profile ?? "of the merchant"} · ${e.enabled ? "enabled" : html`<span class="health bad">disabled: ${e.disabled_reason ?? ""}</span>`}</p>
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
  ${signingKeys(e, base, csrf, disabled)}
  <form method="post" action="${base}/rotate" class="inline" data-confirm="Rotate the ${asymmetric(e) ? "signing key" : "secret"}? The old one keeps signing for the grace period.">
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
${endpointForm(session, await formTypes(session, mid), e, base, false, error, await formChoices(session))}
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
    const endpoint = ok(await callApi(app, session, "GET", api(mid, `/endpoints/${seg(eid)}`)));
    // A whsk_ signing key is never shown: receivers need only the public key the page shows.
    if (endpoint.signature_scheme === "standard-ed25519")
      throw new UiError(
        400,
        "An Ed25519 endpoint's signing key stays in Herald; verify with its public key.",
      );
    const { secret } = ok(await callApi(app, session, "GET", api(mid, `/endpoints/${seg(eid)}/secret`)));
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
    const notice = html`<p class="notice" role="status">New ${rotated.secret.startsWith("whpk_") ? "public key" : "secret"}: <code class="secret">${rotated.secret}</code> ${copyButton(rotated.secret)}
      ${rotated.previous_secrets_expire_at ? html`· previous ${rotated.secret.startsWith("whpk_") ? "keys" : "secrets"} sign until ${time(rotated.previous_secrets_expire_at)}` : ""}</p>`;
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
