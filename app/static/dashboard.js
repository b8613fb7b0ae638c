// The dashboard: each <canvas data-chart="{labels, values}"> becomes a bar chart (Chart.js, served from our own
// static files); data-kind="grouped" takes {labels, series: [{label, values}]}, data-kind="funnel" draws horizontal
// bars, one per stage. The numbers are in the table beside each chart, so nothing is lost without scripts.
// A button with data-png-for="<canvas id>" downloads that chart as PNG (canvas.toDataURL on a white background);
// it stays hidden until its chart is drawn.
(function () {
  "use strict";
  if (typeof window.Chart !== "function") { return; }
  var palette = ["#b4282d", "#1565c0", "#2e7d32", "#e09000", "#6a1b9a", "#00838f", "#5d4037", "#546e7a"];
  // a white background under the drawing, so the PNG reads the same as the page
  var whiteBackground = {
    id: "whiteBackground",
    beforeDraw: function (chart) {
      var ctx = chart.ctx;
      ctx.save();
      ctx.globalCompositeOperation = "destination-over";
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, chart.width, chart.height);
      ctx.restore();
    }
  };
  var canvases = document.querySelectorAll("canvas[data-chart]");
  Array.prototype.forEach.call(canvases, function (canvas) {
    var spec;
    try { spec = JSON.parse(canvas.getAttribute("data-chart")); } catch (e) { return; }
    var kind = canvas.getAttribute("data-kind");
    var datasets;
    if (kind === "grouped") {
      datasets = (spec.series || []).map(function (s, i) {
        return { label: s.label, data: s.values, backgroundColor: palette[i % palette.length] };
      });
    } else {
      datasets = [{ label: canvas.getAttribute("aria-label"), data: spec.values,
                    backgroundColor: spec.values.map(function (_v, i) {
                      return kind === "funnel" ? palette[1] : palette[i % palette.length];
                    }) }];
    }
    var valueAxis = { beginAtZero: true, ticks: { precision: 0 } };
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      plugins: [whiteBackground],
      options: {
        indexAxis: kind === "funnel" ? "y" : "x",
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: kind === "grouped" } },
        scales: kind === "funnel" ? { x: valueAxis } : { y: valueAxis }
      }
    });
    canvas.setAttribute("data-ready", "true");
  });

  var buttons = document.querySelectorAll("button[data-png-for]");
  Array.prototype.forEach.call(buttons, function (button) {
    var canvas = document.getElementById(button.getAttribute("data-png-for"));
    if (!canvas || canvas.getAttribute("data-ready") !== "true") { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var link = document.createElement("a");
      link.href = canvas.toDataURL("image/png");
      link.download = button.getAttribute("data-png-name") || "chart.png";
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  });
}());
