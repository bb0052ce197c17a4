import type { Mode } from "@herald/core";

/**
 * HTML written as tagged templates: every interpolated value is escaped unless it is already Html
 * (another template's output). Receivers' bodies, merchants' URLs and headers are all text here;
 * nothing they send can become markup.
 */
export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

const entities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => entities[c]!);
}

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

/** A time the viewer's browser rewrites into its own timezone, with a relative hint. */
export function time(at: string | Date | null | undefined): Html {
  if (!at) return html`<span class="muted">—</span>`;
  const iso = typeof at === "string" ? at : at.toISOString();
  return html`<time datetime="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC")}</time>`;
}

/** A body as received: pretty JSON when it parses, else the text as is. */
export function pretty(body: string | null | undefined): string {
  if (body === null || body === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export function copyButton(text: string, label = "Copy"): Html {
  return html`<button type="button" class="copy" data-copy="${text}">${label}</button>`;
}

export interface Nav {
  /** The session's own links, left to right. */
  links: { href: string; label: string }[];
  csrf: string;
  who: string;
  /** A link session without a fixed mode can switch; the current one. */
  modeSwitch?: { current: Mode; csrf: string };
}

export function page(title: string, body: Html, nav?: Nav): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,"responseHandling":[{"code":"204","swap":false},{"code":"...","swap":true}]}'>
<title>${title} · Herald</title>
<link rel="stylesheet" href="/ui/assets/app.css">
<script src="/ui/assets/htmx.min.js" defer></script>
<script src="/ui/assets/app.js" defer></script>
</head>
<body>
<header>
  <a class="brand" href="/ui">Herald</a>
  ${
    nav &&
    html`<nav>${nav.links.map((l) => html`<a href="${l.href}">${l.label}</a>`)}</nav>
  <div class="who">
    ${
      nav.modeSwitch &&
      html`<form method="post" action="/ui/mode" class="inline">
      <input type="hidden" name="_csrf" value="${nav.csrf}">
      <input type="hidden" name="mode" value="${nav.modeSwitch.current === "live" ? "test" : "live"}">
      <button type="submit" title="Switch mode">${nav.modeSwitch.current} mode ⇄</button>
    </form>`
    }
    <span>${nav.who}</span>
    <form method="post" action="/ui/sign-out" class="inline">
      <input type="hidden" name="_csrf" value="${nav.csrf}">
      <button type="submit">Sign out</button>
    </form>
  </div>`
  }
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}
