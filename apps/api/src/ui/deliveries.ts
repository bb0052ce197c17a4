import { deliveryStatuses } from "@herald/core";
import type { FastifyRequest } from "fastify";
import type { HeraldApp } from "../app.ts";
import { attemptCard } from "./endpoints.ts";
import { copyButton, type Html, html, page, time } from "./html.ts";
import { callApi, checkCsrf, mpath, navFor, ok, redirect, requireSession, UiError } from "./session.ts";

// biome-ignore lint/suspicious/noExplicitAny: API objects as documented in views.ts
type Obj = any;

const api = (mid: string, rest = "") => `/v1/merchants/${encodeURIComponent(mid)}${rest}`;
const seg = encodeURIComponent;
const filterNames = ["status", "event_type", "endpoint_id", "since", "until", "cursor"] as const;

/** A datetime-local value (no zone: the form says UTC) or an ISO time, as the API's ISO time. */
function isoTime(value: string, field: string): string {
  const at = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(at.getTime())) throw new UiError(400, `${field} is not a date and time.`, field);
  return at.toISOString();
}

/** Deliveries: filtered and paged lists, the attempt timeline, retry, resend, recovery progress. */
export async function deliveryPages(app: HeraldApp) {
  app.get("/merchants/:mid/deliveries", async (request, reply) => {
    const session = requireSession(request);
    const { mid } = request.params as { mid: string };
    const query = request.query as Record<string, unknown>;
    const filters: Record<string, string> = {};
    for (const name of filterNames) {
      const value = query[name];
      if (typeof value === "string" && value !== "") filters[name] = value;
    }
    const apiQuery = new URLSearchParams({ limit: "25" });
    for (const [name, value] of Object.entries(filters))
      apiQuery.set(name, name === "since" || name === "until" ? isoTime(value, name) : value);
    const listed = ok(await callApi(app, session, "GET", `${api(mid, "/deliveries")}?${apiQuery}`));
    const endpoints: Obj[] = ok(
      await callApi(app, session, "GET", `${api(mid, "/endpoints")}?limit=100`),
    ).data;
    // A filter from a link (a deleted endpoint, one past the first hundred) stays visible.
    if (filters.endpoint_id && !endpoints.some((e) => e.id === filters.endpoint_id))
      endpoints.push({ id: filters.endpoint_id, url: filters.endpoint_id });
    const next = new URLSearchParams({ ...filters, cursor: listed.next_cursor ?? "" });
    const selected = (v: string) => (filters.status === v ? "selected" : "");
    const body = html`<form method="get" class="card filters">
  <label for="status">Status</label>
  <select id="status" name="status"><option value="">any</option>
    ${deliveryStatuses.map((s) => html`<option value="${s}" ${selected(s)}>${s}</option>`)}
  </select>
  <label for="event_type">Event type</label><input id="event_type" name="event_type" value="${filters.event_type ?? ""}">
  <label for="endpoint_id">Endpoint</label>
  <select id="endpoint_id" name="endpoint_id"><option value="">any</option>
    ${endpoints.map(
      (e: Obj) =>
        html`<option value="${e.id}" ${filters.endpoint_id === e.id ? "selected" : ""}>${e.description || e.url}</option>`,
    )}
  </select>
  <label for="since">Since (<span class="tz">UTC</span>)</label><input id="since" name="since" type="datetime-local" data-utc step="1" value="${filters.since ?? ""}">
  <label for="until">Until (<span class="tz">UTC</span>)</label><input id="until" name="until" type="datetime-local" data-utc step="1" value="${filters.until ?? ""}">
  <button type="submit">Filter</button> <a href="${mpath(mid, "/deliveries")}">Clear</a>
</form>
${
  listed.data.length
    ? html`<div class="table"><table><thead><tr><th>Created</th><th>Event type</th><th>Status</th><th>Attempts</th><th>Last answer</th><th>Next attempt</th></tr></thead><tbody>
${listed.data.map(
  (d: Obj) => html`<tr>
  <td><a href="${mpath(mid, `/deliveries/${seg(d.id)}`)}">${time(d.created_at)}</a></td>
  <td>${d.event_type}</td><td><span class="status-${d.status}">${d.status}</span>${waitingBehind(mid, d)}</td><td>${d.attempt_count}</td>
  <td>${d.last_status ?? d.last_error ?? "—"}</td><td>${time(d.next_attempt_at)}</td></tr>`,
)}</tbody></table></div>`
    : html`<p class="empty">No deliveries match. Deliveries appear once events are emitted to an endpoint that listens for their type.</p>`
}
${listed.next_cursor && html`<p><a href="?${next.toString()}">Older →</a></p>`}`;
    return reply.type("text/html").send(page("Deliveries", body, navFor(session, mid)).text);
  });

  app.get("/merchants/:mid/deliveries/:did", async (request, reply) => {
    const session = requireSession(request);
    const { mid, did } = request.params as { mid: string; did: string };
    const d = ok(await callApi(app, session, "GET", api(mid, `/deliveries/${seg(did)}`)));
    const base = mpath(mid, `/deliveries/${seg(did)}`);
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
    const disabled = session.readOnly ? "disabled" : "";
    const body = html`<section class="card">
  <p><strong>${d.event_type}</strong> to <a href="${mpath(mid, `/endpoints/${seg(d.endpoint_id)}`)}">${d.endpoint_id}</a></p>
  <dl>
    <dt>Delivery</dt><dd><code>${d.id}</code> ${copyButton(d.id)}</dd>
    <dt>Event</dt><dd><code>${d.event_id}</code> ${copyButton(d.event_id)}</dd>
    <dt>Status</dt><dd><span class="status-${d.status}">${d.status}</span>${waitingBehind(mid, d)}</dd>
    <dt>Created</dt><dd>${time(d.created_at)}</dd>
    <dt>Next attempt</dt><dd>${time(d.next_attempt_at)}</dd>
  </dl>
  <div class="actions">
    <form method="post" action="${base}/retry" class="inline">${csrf}<button type="submit" class="primary" ${disabled}>Retry now</button></form>
    <form method="post" action="${base}/resend" class="inline">${csrf}<button type="submit" ${disabled}>Resend event</button></form>
  </div>
</section>
<h2>Attempts</h2>
${
  d.attempts.length
    ? html`<ol class="timeline">${d.attempts.map((a: Obj) => html`<li>${attemptCard(a, true)}</li>`)}</ol>`
    : html`<p class="empty">No attempt yet${d.next_attempt_at ? html`; the first is due ${time(d.next_attempt_at)}` : ""}.</p>`
}
`;
    return reply.type("text/html").send(page("Delivery", body, navFor(session, mid)).text);
  });

  app.post("/merchants/:mid/deliveries/:did/retry", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    const { mid, did } = request.params as { mid: string; did: string };
    ok(await callApi(app, session, "POST", api(mid, `/deliveries/${seg(did)}/retry`)));
    return redirect(reply, mpath(mid, `/deliveries/${seg(did)}`));
  });

  app.post("/merchants/:mid/deliveries/:did/resend", async (request, reply) => {
    const session = requireSession(request);
    checkCsrf(request, session);
    const { mid, did } = request.params as { mid: string; did: string };
    const d = ok(await callApi(app, session, "GET", api(mid, `/deliveries/${seg(did)}`)));
    ok(
      await callApi(app, session, "POST", api(mid, `/events/${seg(d.event_id)}/resend`), {
        endpoint_id: d.endpoint_id,
      }),
    );
    return redirect(reply, mpath(mid, `/deliveries/${seg(did)}`));
  });

  async function progress(request: FastifyRequest) {
    const session = requireSession(request);
    const { mid, opid } = request.params as { mid: string; opid: string };
    const op = ok(await callApi(app, session, "GET", api(mid, `/operations/${seg(opid)}`)));
    const percent = op.total ? Math.round((op.done / op.total) * 100) : 100;
    const live = op.status === "running";
    const fragment = html`<div id="progress" ${live ? html`hx-get="${mpath(mid, `/operations/${seg(opid)}/progress`)}" hx-trigger="every 1s" hx-swap="outerHTML"` : ""}>
  <progress max="100" value="${percent}" aria-label="Recovery progress">${percent} %</progress>
  <p><strong class="op-status">${op.status}</strong> · ${op.done} of ${op.total} re-sent · ${op.succeeded} succeeded · ${op.failed} failed again</p>
</div>`;
    return { session, mid, op, fragment };
  }

  app.get("/merchants/:mid/operations/:opid", async (request, reply) => {
    const { session, mid, op, fragment } = await progress(request);
    const body = html`<section class="card">
  <p>Re-sending failed deliveries of <a href="${mpath(mid, `/endpoints/${seg(op.endpoint_id)}`)}">${op.endpoint_id}</a>
  created between ${time(op.since)} and ${time(op.until)}.</p>
  ${fragment}
</section>`;
    return reply.type("text/html").send(page("Recovery", body, navFor(session, mid)).text);
  });

  app.get("/merchants/:mid/operations/:opid/progress", async (request, reply) =>
    reply.type("text/html").send((await progress(request)).fragment.text),
  );
}

/** A FIFO endpoint's delivery held back by the one at the head of its line. */
function waitingBehind(mid: string, d: Obj): Html | string {
  return d.waiting_behind
    ? html` <span class="muted">waiting behind <a href="${mpath(mid, `/deliveries/${seg(d.waiting_behind)}`)}">${d.waiting_behind}</a></span>`
    : "";
}
