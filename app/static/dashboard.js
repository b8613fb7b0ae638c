// The dashboard: each <canvas data-chart="{labels, values}"> becomes a bar chart (Chart.js, served from our own
// static files); data-kind="grouped" takes {labels, series: [{label, values}]}. The numbers are in the table beside
// each chart, so nothing is lost without scripts.
(function () {
  "use strict";
  if (typeof window.Chart !== "function") { return; }
  var palette = ["#b4282d", "#1565c0", "#2e7d32", "#e09000", "#6a1b9a", "#00838f", "#5d4037", "#546e7a"];
  var canvases = document.querySelectorAll("canvas[data-chart]");
  Array.prototype.forEach.call(canvases, function (canvas) {
    var spec;
    try { spec = JSON.parse(canvas.getAttribute("data-chart")); } catch (e) { return; }
    var datasets;
    if (canvas.getAttribute("data-kind") === "grouped") {
      datasets = (spec.series || []).map(function (s, i) {
        return { label: s.label, data: s.values, backgroundColor: palette[i % palette.length] };
      });
    } else {
      datasets = [{ label: canvas.getAttribute("aria-label"), data: spec.values,
                    backgroundColor: spec.values.map(function (_v, i) { return palette[i % palette.length]; }) }];
    }
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: canvas.getAttribute("data-kind") === "grouped" } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
    canvas.setAttribute("data-ready", "true");
  });
}());
