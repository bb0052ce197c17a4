import {
  attemptQueue,
  recentOperations,
  searchMerchants,
  systemFigures,
  troubledEndpoints,
} from "@herald/db";
import type { FastifyRequest } from "fastify";
import type { HeraldApp } from "../app.ts";
import { copyButton, html, page, time } from "./html.ts";
import { callApi, checkCsrf, mpath, navFor, ok, redirect, requireOperator } from "./session.ts";

// biome-ignore lint/suspicious/noExplicitAny: API objects as documented in views.ts
type Obj = any;

const seg = encodeURIComponent;
// The system page's rates are over this trailing window.
const figuresWindowSeconds = 60;

/** The operator console: merchants, their API keys and portal links, and the system page. */
export async function consolePages(app: HeraldApp) {
  const { db, boss } = app.herald;

  app.get("/console", async (request, reply) => {
    const session = requireOperator(request);
    const query = request.query as { q?: string; cursor?: string };
    const q = typeof query.q === "string" ? query.q.trim().slice(0, 100) : "";
    let merchants: Obj[];
    let nextCursor: string | null = null;
    if (q) {
      merchants = (await searchMerchants(db, q, 50)).map((m) => ({
        ...m,
        created_at: m.created_at.toISOString(),
      }));
    } else {
      const cursor = typeof query.cursor === "string" ? `&cursor=${seg(query.cursor)}` : "";
      const listed = ok(await callApi(app, session, "GET", `/v1/merchants?limit=50${cursor}`));
      merchants = listed.data;
      nextCursor = listed.next_cursor;
    }
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
    const body = html`<div class="split">
<form method="get" class="card inline" role="search">
  <label for="q">Search</label><input id="q" name="q" value="${q}" placeholder="name or id">
  <button type="submit">Search</button>
</form>
<form method="post" action="/ui/console/merchants" class="card inline">
  ${csrf}<label for="name">New merchant</label><input id="name" name="name" required maxlength="200">
  <button type="submit" class="primary">Create</button>
</form>
</div>
${
  merchants.length
    ? html`<div class="table"><table><thead><tr><th>Name</th><th>Id</th><th>Created</th><th></th></tr></thead><tbody>
${merchants.map(
  (m) => html`<tr><td><a href="${mpath(m.id, "/endpoints")}">${m.name}</a></td>
  <td><code>${m.id}</code> ${copyButton(m.id)}</td><td>${time(m.created_at)}</td>
  <td><form method="post" action="/ui/console/merchants/${seg(m.id)}/delete" class="inline" data-confirm="Delete this merchant? Its keys stop working and its endpoints go with it.">${csrf}<button type="submit" class="danger">Delete</button></form></td></tr>`,
)}</tbody></table></div>`
    : html`<p class="empty">${q ? "No merchant matches." : "No merchants yet: create the first one above, then give it an API key."}</p>`
}
${nextCursor && html`<p><a href="?cursor=${nextCursor}">Next page →</a></p>`}`;
    return reply.type("text/html").send(page("Merchants", body, navFor(session)).text);
  });

  app.post("/console/merchants", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const name = String((request.body as Obj).name ?? "").trim();
    const created = ok(await callApi(app, session, "POST", "/v1/merchants", { name }));
    return redirect(reply, mpath(created.id, "/api-keys"));
  });

  app.post("/console/merchants/:mid/delete", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const { mid } = request.params as { mid: string };
    ok(await callApi(app, session, "DELETE", `/v1/merchants/${seg(mid)}`));
    return redirect(reply, "/ui/console");
  });

  async function keysPage(request: FastifyRequest, shown?: Obj) {
    const session = requireOperator(request);
    const { mid } = request.params as { mid: string };
    const merchant = ok(await callApi(app, session, "GET", `/v1/merchants/${seg(mid)}`));
    const [keys, profiles] = await Promise.all([
      callApi(app, session, "GET", `/v1/merchants/${seg(mid)}/api-keys?limit=100`).then(ok),
      callApi(app, session, "GET", "/v1/profiles").then(ok),
    ]);
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
    const base = mpath(mid, "/api-keys");
    const body = html`${
      shown?.key &&
      html`<p class="notice" role="status">New ${shown.mode} key, shown once: <code class="secret">${shown.key}</code> ${copyButton(shown.key)}</p>`
    }${
      shown?.url &&
      html`<p class="notice" role="status">One-time portal link (until ${time(shown.expires_at)}): <code class="secret">${shown.url}</code> ${copyButton(shown.url)}</p>`
    }
<p>Merchant <strong>${merchant.name}</strong> <code>${merchant.id}</code> ${copyButton(merchant.id)}</p>
${shown?.profileError && html`<p class="error" role="alert">${shown.profileError} (field <code>profile</code>)</p>`}
<form method="post" action="${mpath(mid, "/profile")}" class="inline">
  ${csrf}<label for="profile">Delivery profile of its endpoints that name none</label>
  <select id="profile" name="profile">${(profiles.data as Obj[]).map(
    (p) =>
      html`<option value="${p.name}" ${(merchant.profile ?? "default") === p.name ? "selected" : ""}>${p.name}${p.description ? ` — ${p.description}` : ""}</option>`,
  )}</select>
  <button type="submit">Save profile</button>
</form>
<div class="actions">
  <form method="post" action="${base}" class="inline">${csrf}<input type="hidden" name="mode" value="live"><button type="submit">New live key</button></form>
  <form method="post" action="${base}" class="inline">${csrf}<input type="hidden" name="mode" value="test"><button type="submit">New test key</button></form>
  <form method="post" action="${mpath(mid, "/portal-link")}" class="inline">${csrf}<button type="submit" class="primary">Portal link</button></form>
</div>
${
  keys.data.length
    ? html`<div class="table"><table><thead><tr><th>Key</th><th>Mode</th><th>Created</th><th>Revoked</th><th></th></tr></thead><tbody>
${keys.data.map(
  (
    k: Obj,
  ) => html`<tr><td><code>${k.prefix}…${k.last4}</code></td><td>${k.mode}</td><td>${time(k.created_at)}</td><td>${time(k.revoked_at)}</td>
  <td>${!k.revoked_at && html`<form method="post" action="${base}/${seg(k.id)}/revoke" class="inline">${csrf}<button type="submit" class="danger">Revoke</button></form>`}</td></tr>`,
)}</tbody></table></div>`
    : html`<p class="empty">No API keys yet: create a test key for the merchant to try Herald, a live key when it goes live.</p>`
}`;
    return page("API keys", body, navFor(session, mid)).text;
  }

  app.get("/merchants/:mid/api-keys", async (request, reply) =>
    reply.type("text/html").send(await keysPage(request)),
  );

  app.post("/merchants/:mid/api-keys", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const { mid } = request.params as { mid: string };
    const mode = (request.body as Obj).mode;
    const created = ok(await callApi(app, session, "POST", `/v1/merchants/${seg(mid)}/api-keys`, { mode }));
    return reply.type("text/html").send(await keysPage(request, created));
  });

  app.post("/merchants/:mid/api-keys/:kid/revoke", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const { mid, kid } = request.params as { mid: string; kid: string };
    ok(await callApi(app, session, "DELETE", `/v1/merchants/${seg(mid)}/api-keys/${seg(kid)}`));
    return redirect(reply, mpath(mid, "/api-keys"));
  });

  app.post("/merchants/:mid/profile", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const { mid } = request.params as { mid: string };
    const profile = String((request.body as Obj).profile ?? "");
    const answer = await callApi(app, session, "PATCH", `/v1/merchants/${seg(mid)}`, { profile });
    if (answer.status === 400) {
      // Refused (e.g. its http test endpoints): the page again, with the reason.
      const detail = String(answer.body?.detail ?? "The profile was refused.");
      return reply
        .code(400)
        .type("text/html")
        .send(await keysPage(request, { profileError: detail }));
    }
    ok(answer);
    return redirect(reply, mpath(mid, "/api-keys"));
  });

  app.post("/merchants/:mid/portal-link", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const { mid } = request.params as { mid: string };
    const link = ok(await callApi(app, session, "POST", `/v1/merchants/${seg(mid)}/portal-sessions`, {}));
    return reply.type("text/html").send(await keysPage(request, link));
  });

  async function figures() {
    const [f, queue] = await Promise.all([
      systemFigures(db, figuresWindowSeconds),
      boss.getQueue(attemptQueue).catch(() => null),
    ]);
    const rate = f.attempts ? `${Math.round((f.succeeded / f.attempts) * 1000) / 10} %` : "—";
    return html`<div id="figures" class="figures" hx-get="/ui/console/system/figures" hx-trigger="every 2s" hx-swap="outerHTML">
  <div class="figure"><span class="value" data-figure="deliveries-per-second">${(f.deliveries / f.windowSeconds).toFixed(2)}</span><span class="label">new deliveries/s (last ${f.windowSeconds} s)</span></div>
  <div class="figure"><span class="value" data-figure="attempts-per-second">${(f.attempts / f.windowSeconds).toFixed(2)}</span><span class="label">attempts/s (last ${f.windowSeconds} s)</span></div>
  <div class="figure"><span class="value" data-figure="success-rate">${rate}</span><span class="label">success rate (last ${f.windowSeconds} s)</span></div>
  <div class="figure"><span class="value" data-figure="attempts">${f.attempts}</span><span class="label">attempts (last ${f.windowSeconds} s)</span></div>
  <div class="figure"><span class="value" data-figure="pending">${f.pendingDeliveries}</span><span class="label">pending deliveries</span></div>
  <div class="figure"><span class="value" data-figure="queue">${queue ? `${queue.readyCount} ready · ${queue.deferredCount} later · ${queue.activeCount} active` : "—"}</span><span class="label">attempt queue</span></div>
  <div class="figure"><span class="value" data-figure="lag">${f.lagSeconds.toFixed(1)} s</span><span class="label">lag of the oldest due delivery</span></div>
</div>`;
  }

  app.get("/console/system/figures", async (request, reply) => {
    requireOperator(request);
    return reply.type("text/html").send((await figures()).text);
  });

  app.get("/console/system", async (request, reply) => {
    const session = requireOperator(request);
    const [troubled, operations] = await Promise.all([troubledEndpoints(db, 50), recentOperations(db, 20)]);
    const body = html`${await figures()}
<h2>Failing and disabled endpoints</h2>
${
  troubled.length
    ? html`<div class="table"><table><thead><tr><th>Merchant</th><th>Endpoint</th><th>Mode</th><th>State</th></tr></thead><tbody>
${troubled.map(
  (
    e,
  ) => html`<tr><td>${e.merchant_name}</td><td><a href="${mpath(e.merchant_id, `/endpoints/${seg(e.id)}`)}">${e.url}</a></td><td>${e.mode}</td>
  <td>${e.enabled ? html`failing since ${time(e.failing_since)}` : html`disabled: ${e.disabled_reason ?? ""}`}</td></tr>`,
)}</tbody></table></div>`
    : html`<p class="empty">Every endpoint is healthy.</p>`
}
<h2>Recent recovery operations</h2>
${
  operations.length
    ? html`<div class="table"><table><thead><tr><th>Started</th><th>Merchant</th><th>Endpoint</th><th>Window</th></tr></thead><tbody>
${operations.map(
  (
    o,
  ) => html`<tr><td><a href="${mpath(o.merchant_id, `/operations/${seg(o.id)}`)}">${time(o.created_at)}</a></td><td><code>${o.merchant_id}</code></td>
  <td><code>${o.endpoint_id}</code></td><td>${time(o.since)} – ${time(o.until)}</td></tr>`,
)}</tbody></table></div>`
    : html`<p class="empty">No recovery operations yet.</p>`
}`;
    return reply.type("text/html").send(page("System", body, navFor(session)).text);
  });
}
