// Draws the endpoint charts with uPlot from the page's own JSON (no inline script).
(() => {
  async function draw(el) {
    const response = await fetch(el.dataset.chart, { credentials: "same-origin" });
    if (!response.ok) return;
    const { points } = await response.json();
    if (points.length === 0) {
      el.textContent = "No attempts in the last 24 hours yet.";
      el.classList.add("empty");
      return;
    }
    const t = points.map((p) => p.t);
    const width = Math.max(280, Math.min(el.clientWidth || 600, 900));
    const axes = [{}, {}];
    const options =
      el.dataset.kind === "latency"
        ? {
            title: "Latency (ms)",
            width,
            height: 220,
            series: [{}, { label: "p50", stroke: "#2563eb" }, { label: "p95", stroke: "#dc2626" }],
            axes,
          }
        : {
            title: "Attempts and success rate",
            width,
            height: 220,
            scales: { rate: { range: [0, 100] } },
            series: [
              {},
              { label: "attempts", stroke: "#2563eb", fill: "rgba(37,99,235,0.1)" },
              { label: "success %", stroke: "#16a34a", scale: "rate" },
            ],
            axes: [{}, {}, { scale: "rate", side: 1, grid: { show: false } }],
          };
    const data =
      el.dataset.kind === "latency"
        ? [t, points.map((p) => p.p50_ms), points.map((p) => p.p95_ms)]
        : [
            t,
            points.map((p) => p.attempts),
            points.map((p) => (p.attempts ? (100 * p.succeeded) / p.attempts : null)),
          ];
    new window.uPlot(options, data, el);
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const el of document.querySelectorAll("[data-chart]")) draw(el).catch(() => {});
  });
})();
