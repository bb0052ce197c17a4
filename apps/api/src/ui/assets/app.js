// Progressive enhancement for the dashboard: every page works without it.
(() => {
  // A browser whose locale Intl cannot parse (en-US@posix) still gets a readable format.
  function formats(locale) {
    return [
      new Intl.RelativeTimeFormat(locale, { numeric: "auto" }),
      new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" }),
    ];
  }
  let relative;
  let local;
  try {
    [relative, local] = formats(undefined);
  } catch {
    [relative, local] = formats("en");
  }
  const units = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1],
  ];

  function hint(date) {
    const seconds = (date.getTime() - Date.now()) / 1000;
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size || unit === "second")
        return relative.format(Math.round(seconds / size), unit);
    }
    return "";
  }

  // Times arrive in UTC; show them in the viewer's timezone, with "3 minutes ago" beside.
  function localizeTimes(root) {
    for (const el of root.querySelectorAll("time[datetime]:not([data-local])")) {
      const date = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) continue;
      el.dataset.local = "1";
      el.title = el.getAttribute("datetime");
      el.textContent = `${local.format(date)} (${hint(date)})`;
    }
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy";
    }
  });

  // Date-time fields travel in UTC (what the server reads without a script); the viewer types and
  // reads them in their own timezone.
  const pad = (n) => String(n).padStart(2, "0");
  const naiveLocal = (d) =>
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

  function localizeInputs(root) {
    for (const input of root.querySelectorAll("input[data-utc]")) {
      const date = input.value ? new Date(`${input.value}Z`) : null;
      if (date && !Number.isNaN(date.getTime())) input.value = naiveLocal(date);
    }
    let zone = "local time";
    try {
      zone = Intl.DateTimeFormat("en").resolvedOptions().timeZone || zone;
    } catch {}
    for (const span of root.querySelectorAll(".tz")) span.textContent = zone;
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    const question = form.dataset?.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    for (const input of form.querySelectorAll("input[data-utc]")) {
      // A date-time without a zone parses as local time.
      const date = input.value ? new Date(input.value) : null;
      if (date && !Number.isNaN(date.getTime())) input.value = date.toISOString().slice(0, 19);
    }
  });

  // A portal link: its one-time token is in the fragment; post it, and drop it from the address bar.
  function openPortalLink() {
    const form = document.getElementById("portal-link");
    if (!form) return;
    const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
    history.replaceState(null, "", location.pathname);
    form.elements.token.value = token;
    form.submit();
  }

  document.addEventListener("DOMContentLoaded", () => {
    openPortalLink();
    localizeTimes(document);
    localizeInputs(document);
  });
  document.addEventListener("htmx:afterSettle", (event) => localizeTimes(event.target));
})();
