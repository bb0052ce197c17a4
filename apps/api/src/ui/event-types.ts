import type { FastifyRequest } from "fastify";
import type { HeraldApp } from "../app.ts";
import { type Html, html, page, time } from "./html.ts";
import {
  callApi,
  checkCsrf,
  navFor,
  ok,
  redirect,
  refusal,
  requireOperator,
  UiError,
  type UiSession,
} from "./session.ts";

// biome-ignore lint/suspicious/noExplicitAny: API objects as documented in routes/event-types.ts
type Obj = any;

const seg = encodeURIComponent;
const base = "/ui/console/event-types";
const perPage = 100;

/** A JSON textarea as the API's value: empty is "not given"; text that does not parse names its field. */
function jsonField(text: unknown, field: string): unknown {
  const trimmed = typeof text === "string" ? text.trim() : "";
  if (trimmed === "") return undefined;
  try {
    return JSON.parse(trimmed);
  } catch (error) {
    throw new UiError(400, `${field} is not JSON: ${(error as Error).message}.`, field);
  }
}

function csrfField(session: UiSession): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
}

function typeRow(session: UiSession, t: Obj): Html {
  const csrf = csrfField(session);
  const at = `${base}/${seg(t.name)}`;
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  return html`<tr data-event-type="${t.name}"><td><code>${t.name}</code>${t.deprecated ? html` <span class="health warn">deprecated</span>` : ""}</td>
  <td>${t.description}${
    (t.schema !== null || t.example !== null) &&
    html`<details><summary>${[t.schema !== null && "schema", t.example !== null && "example"].filter(Boolean).join(" and ")}</summary>
    ${t.schema !== null && html`<pre class="json">${json(t.schema)}</pre>`}
    ${t.example !== null && html`<p class="muted">Example <code>data</code>:</p><pre class="json">${json(t.example)}</pre>`}</details>`
  }</td>
  <td>${time(t.updated_at)}</td>
  <td><div class="actions">
    <form method="post" action="${at}/deprecated" class="inline">${csrf}<input type="hidden" name="deprecated" value="${t.deprecated ? "false" : "true"}"><button type="submit">${t.deprecated ? "Undeprecate" : "Deprecate"}</button></form>
    <form method="post" action="${at}/delete" class="inline" data-confirm="Remove ${t.name} from the catalog? Merchants can no longer pick it; events already sent keep it.">${csrf}<button type="submit" class="danger">Delete</button></form>
  </div></td></tr>`;
}

/**
 * The console's event-type catalog: what the provider emits, which merchants pick from when they
 * subscribe. Reads and writes go through /v1/event-types as the operator session, so a schema is
 * checked by the same rules as through the API.
 */
export async function eventTypePages(app: HeraldApp) {
  async function catalogPage(request: FastifyRequest, form: { values?: Obj; error?: UiError } = {}) {
    const session = requireOperator(request);
    const cursor = (request.query as { cursor?: unknown }).cursor;
    const after = typeof cursor === "string" && cursor !== "" ? `&cursor=${seg(cursor)}` : "";
    const listed = ok(
      await callApi(app, session, "GET", `/v1/event-types?include_deprecated=true&limit=${perPage}${after}`),
    );
    // The API lists in name order, so each group's types already come together.
    const groups = new Map<string, Obj[]>();
    for (const t of listed.data as Obj[]) groups.set(t.group, [...(groups.get(t.group) ?? []), t]);
    const values = form.values ?? {};
    const error = form.error;
    const body = html`<p class="hint">The types merchants subscribe their endpoints to. A schema checks each emit's <code>data</code>;
deprecated types are still accepted, and shown to merchants as deprecated.</p>
${
  groups.size
    ? [...groups].map(
        ([group, types]) => html`<h2 data-group="${group}">${group}</h2>
<div class="table"><table><thead><tr><th>Type</th><th>Description</th><th>Updated</th><th></th></tr></thead><tbody>
${types.map((t) => typeRow(session, t))}</tbody></table></div>`,
      )
    : html`<p class="empty">The catalog is empty: add the types you emit below, so merchants can pick them.</p>`
}
${listed.next_cursor && html`<p><a href="?cursor=${listed.next_cursor}">Next page →</a></p>`}
<h2>Add an event type</h2>
<form method="post" action="${base}" class="card" id="new-event-type">
  ${error && html`<p class="error" role="alert">${error.message}${error.field ? html` (field <code>${error.field}</code>)` : ""}</p>`}
  ${csrfField(session)}
  <label for="name">Name</label>
  <input id="name" name="name" required maxlength="200" value="${values.name ?? ""}" placeholder="payment.succeeded">
  <label for="description">Description</label>
  <input id="description" name="description" maxlength="2000" value="${values.description ?? ""}">
  <label for="schema">JSON Schema of <code>data</code> (draft 2020-12; optional)</label>
  <textarea id="schema" name="schema" rows="8" spellcheck="false" placeholder='{"type": "object", "required": ["amount"]}'>${values.schema ?? ""}</textarea>
  <label for="example">Example <code>data</code> (optional; must satisfy the schema)</label>
  <textarea id="example" name="example" rows="5" spellcheck="false" placeholder='{"amount": 1200}'>${values.example ?? ""}</textarea>
  <button type="submit" class="primary">Add</button>
</form>`;
    return page("Event types", body, navFor(session)).text;
  }

  app.get("/console/event-types", async (request, reply) =>
    reply.type("text/html").send(await catalogPage(request)),
  );

  app.post("/console/event-types", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const form = (request.body ?? {}) as Obj;
    // Refused: the form again with what was typed, naming the field.
    const again = async (error: UiError) =>
      reply
        .code(error.status)
        .type("text/html")
        .send(await catalogPage(request, { values: form, error }));
    let fields: Obj;
    try {
      const description = String(form.description ?? "").trim();
      fields = {
        name: String(form.name ?? "").trim(),
        ...(description && { description }),
        schema: jsonField(form.schema, "schema"),
        example: jsonField(form.example, "example"),
      };
    } catch (error) {
      if (error instanceof UiError) return again(error);
      throw error;
    }
    const answer = await callApi(app, session, "POST", "/v1/event-types", fields);
    const refused = refusal(answer);
    if (refused) return again(refused);
    ok(answer);
    return redirect(reply, base);
  });

  app.post("/console/event-types/:name/deprecated", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const { name } = request.params as { name: string };
    const deprecated = (request.body as Obj).deprecated === "true";
    ok(await callApi(app, session, "PATCH", `/v1/event-types/${seg(name)}`, { deprecated }));
    return redirect(reply, base);
  });

  app.post("/console/event-types/:name/delete", async (request, reply) => {
    const session = requireOperator(request);
    checkCsrf(request, session);
    const { name } = request.params as { name: string };
    ok(await callApi(app, session, "DELETE", `/v1/event-types/${seg(name)}`));
    return redirect(reply, base);
  });
}
