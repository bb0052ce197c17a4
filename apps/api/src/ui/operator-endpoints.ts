import { operatorEventTypes } from "@herald/db";
import type { FastifyRequest } from "fastify";
import type { HeraldApp } from "../app.ts";
import { attemptCard } from "./endpoints.ts";
import { copyButton, type Html, html, page, time } from "./html.ts";
import {
  callApi,
  checkCsrf,
  mpath,
  navFor,
  ok,
  redirect,
  refusal,
  requireOperator,
  type UiError,
  type UiSession,
} from "./session.ts";

// biome-ignore lint/suspicious/noExplicitAny: API objects as documented in views.ts
type Obj = any;

const seg = encodeURIComponent;
const base = "/ui/console/operator-endpoints";
const api = (oeid: string, rest = "") => `/v1/operator-endpoints/${seg(oeid)}${rest}`;
// Deliveries shown on an operator endpoint's page, each with its attempts: the recent ones are
// what an operator checks ("did the pager hear of it?"); older ones are in the API.
const recentDeliveries = 10;

function csrfField(session: UiSession): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
}

/** A form's checkbox list as the API's array: one value arrives as a string, none as undefined. */
function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === "string" && value !== "" ? [value] : [];
}

function secretNotice(secret: string, what: string): Html {
  return html`<p class="notice" role="status">${what}, shown once: <code class="secret" data-secret>${secret}</code> ${copyButton(secret)}</p>`;
}

/**
 * The merchant endpoint an operator event is about, linked to its page: read from the event as
 * sent (the first attempt's body). The ids are the merchant's; the link is encoded like any other.
 */
function aboutLink(d: Obj): Html | undefined {
  let data: Obj;
  try {
    data = JSON.parse(d.attempts?.[0]?.request?.body ?? "null")?.data;
  } catch {
    return undefined;
  }
  if (typeof data?.merchant_id !== "string" || typeof data?.endpoint_id !== "string") return undefined;
  return html` · about <a href="${mpath(data.merchant_id, `/endpoints/${seg(data.endpoint_id)}`)}" data-about>${data.url ?? data.endpoint_id}</a>`;
}

function stateOf(e: Obj): Html {
  return e.enabled
    ? html`<span class="health good">enabled</span>`
    : html`<span class="health bad">disabled${e.disabled_reason ? `: ${e.disabled_reason}` : ""}</span>`;
}

/** Enable/disable, rotate, delete: the same buttons on the list and on an endpoint's page. */
function actions(session: UiSession, e: Obj): Html {
  const csrf = csrfField(session);
  const at = `${base}/${seg(e.id)}`;
  return html`<div class="actions">
  <form method="post" action="${at}/enabled" class="inline">${csrf}<input type="hidden" name="enabled" value="${e.enabled ? "false" : "true"}"><button type="submit">${e.enabled ? "Disable" : "Enable"}</button></form>
  <form method="post" action="${at}/rotate-secret" class="inline" data-confirm="Rotate this endpoint's secret? The previous one keeps signing for 24 hours.">${csrf}<button type="submit">Rotate secret</button></form>
  <form method="post" action="${at}/delete" class="inline" data-confirm="Delete this operator endpoint? It hears of nothing more.">${csrf}<button type="submit" class="danger">Delete</button></form>
</div>`;
}

/**
 * The console's operational webhooks (docs/operational-webhooks.md): the provider's own endpoints
 * that hear of its merchants' endpoints in trouble, and what was sent to them. Every read and write
 * goes through /v1/operator-endpoints as the operator session.
 */
export async function operatorEndpointPages(app: HeraldApp) {
  async function listPage(
    request: FastifyRequest,
    form: { values?: Obj; error?: UiError; created?: Obj } = {},
  ) {
    const session = requireOperator(request);
    const cursor = (request.query as { cursor?: unknown }).cursor;
    const after = typeof cursor === "string" ? `&cursor=${seg(cursor)}` : "";
    const listed = ok(await callApi(app, session, "GET", `/v1/operator-endpoints?limit=50${after}`));
    const values = form.values ?? {};
    const chosen = new Set(list(values.event_types));
    const error = form.error;
    const body = html`${form.created && secretNotice(form.created.secret, `Signing secret of ${form.created.url}`)}
<p class="hint">Where Herald tells you about your merchants' endpoints in trouble, as signed webhooks (Standard Webhooks).
See docs/operational-webhooks.md for each event's data.</p>
${
  listed.data.length
    ? html`<div class="table"><table><thead><tr><th>URL</th><th>Mode</th><th>Events</th><th>State</th><th></th></tr></thead><tbody>
${(listed.data as Obj[]).map(
  (
    e,
  ) => html`<tr data-operator-endpoint="${e.id}"><td><a href="${base}/${seg(e.id)}">${e.url}</a><br><span class="muted">${e.description}</span></td>
  <td>${e.mode}</td><td>${e.event_types.length ? e.event_types.join(", ") : html`<span class="muted">all</span>`}</td>
  <td>${stateOf(e)}</td><td>${actions(session, e)}</td></tr>`,
)}</tbody></table></div>`
    : html`<p class="empty">No operator endpoints yet: add one below to hear when a merchant's endpoint is disabled or failing.</p>`
}
${listed.next_cursor && html`<p><a href="?cursor=${listed.next_cursor}">Next page →</a></p>`}
<h2>Add an operator endpoint</h2>
<form method="post" action="${base}" class="card" id="new-operator-endpoint">
  ${error && html`<p class="error" role="alert">${error.message}${error.field ? html` (field <code>${error.field}</code>)` : ""}</p>`}
  ${csrfField(session)}
  <label for="url">URL</label>
  <input id="url" name="url" type="url" required value="${values.url ?? ""}" placeholder="https://pager.example.com/herald">
  <label for="description">Description</label>
  <input id="description" name="description" maxlength="1024" value="${values.description ?? ""}">
  <label for="mode">Mode</label>
  <select id="mode" name="mode"><option value="live">live (events about live endpoints; https only)</option><option value="test" ${values.mode === "test" ? "selected" : ""}>test</option></select>
  <fieldset><legend>Events (none checked: all of them)</legend>
  ${operatorEventTypes.map(
    (t) =>
      html`<label class="check"><input type="checkbox" name="event_types" value="${t}" ${chosen.has(t) ? "checked" : ""}> ${t}</label>`,
  )}
  </fieldset>
  <button type="submit" class="primary">Add</button>
</form>`;
    return page("Operational webhooks", body, navFor(session)).text;
  }

  app.get("/console/operator-endpoints", async (request, reply) =>
    reply.type("text/html").send(await listPage(request)),
  );

  app.post("/console/operator-endpoints", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const form = (request.body ?? {}) as Obj;
    const description = String(form.description ?? "").trim();
    const answer = await callApi(app, session, "POST", "/v1/operator-endpoints", {
      url: String(form.url ?? "").trim(),
      mode: form.mode === "test" ? "test" : "live",
      event_types: list(form.event_types),
      ...(description && { description }),
    });
    const refused = refusal(answer);
    // Refused: the form again with what was typed, naming the field.
    if (refused)
      return reply
        .code(refused.status)
        .type("text/html")
        .send(await listPage(request, { values: form, error: refused }));
    const created = ok(answer);
    // The secret exists in this answer only: shown now, never again (rotate for a new one).
    return reply.type("text/html").send(await listPage(request, { created }));
  });

  async function endpointPage(request: FastifyRequest, rotated?: Obj) {
    const session = requireOperator(request);
    const { oeid } = request.params as { oeid: string };
    const e = ok(await callApi(app, session, "GET", api(oeid)));
    const listed = ok(
      await callApi(app, session, "GET", `${api(oeid, "/deliveries")}?limit=${recentDeliveries}`),
    );
    const deliveries: Obj[] = await Promise.all(
      (listed.data as Obj[]).map(async (d) =>
        ok(await callApi(app, session, "GET", api(oeid, `/deliveries/${seg(d.id)}`))),
      ),
    );
    const body = html`${rotated && secretNotice(rotated.secret, "New signing secret")}${
      rotated?.previous_secrets_expire_at &&
      html`<p class="muted">The previous secret keeps signing until ${time(rotated.previous_secrets_expire_at)}.</p>`
    }
<section class="card">
  <h2>${e.url}</h2>
  <p class="muted">${e.id} ${copyButton(e.id)} · ${e.mode} mode · events: ${e.event_types.length ? e.event_types.join(", ") : "all"} · ${stateOf(e)}</p>
  ${e.description && html`<p>${e.description}</p>`}
  ${actions(session, e)}
</section>
<h2>Recent deliveries</h2>
${
  deliveries.length
    ? deliveries.map(
        (d) => html`<section class="card" data-delivery="${d.id}">
  <h3><span class="event-type">${d.event_type}</span> · <span class="status-${d.status}">${d.status}</span> · ${time(d.created_at)}</h3>
  <p class="muted">${d.id} · event ${d.event_id} · ${d.attempt_count} attempt${d.attempt_count === 1 ? "" : "s"}${aboutLink(d)}${d.next_attempt_at ? html` · next ${time(d.next_attempt_at)}` : ""}</p>
  ${(d.attempts as Obj[]).map((a) => attemptCard(a, true))}
</section>`,
      )
    : html`<p class="empty">Nothing sent to it yet: operator events go out when a merchant's endpoint is disabled, re-enabled, starts failing, exhausts a delivery or finishes a recovery.</p>`
}`;
    return page("Operator endpoint", body, navFor(session)).text;
  }

  app.get("/console/operator-endpoints/:oeid", async (request, reply) =>
    reply.type("text/html").send(await endpointPage(request)),
  );

  app.post("/console/operator-endpoints/:oeid/enabled", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const { oeid } = request.params as { oeid: string };
    const enabled = (request.body as Obj).enabled === "true";
    ok(await callApi(app, session, "PATCH", api(oeid), { enabled }));
    return redirect(reply, `${base}/${seg(oeid)}`);
  });

  app.post("/console/operator-endpoints/:oeid/rotate-secret", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const { oeid } = request.params as { oeid: string };
    const rotated = ok(await callApi(app, session, "POST", api(oeid, "/rotate-secret"), {}));
    return reply.type("text/html").send(await endpointPage(request, rotated));
  });

  app.post("/console/operator-endpoints/:oeid/delete", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const { oeid } = request.params as { oeid: string };
    ok(await callApi(app, session, "DELETE", api(oeid)));
    return redirect(reply, base);
  });
}
