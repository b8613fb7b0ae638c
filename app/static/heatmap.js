// The process heatmap page: the tier's diagram (shared viewer, diagram.js) with each element coloured by the
// table's figures (waiting now or median time, chosen by #hm-color without reloading) and a badge per element.
// The figures come from the table beside the diagram (data-* attributes of its rows): one source for both.
(function () {
  "use strict";
  var container = document.getElementById("heatmap-diagram");
  var table = document.getElementById("heatmap-table");
  if (!container || !table || !window.tierflowShowDiagram) { return; }
  var LEVELS = 5;
  var rows = Array.prototype.map.call(table.querySelectorAll("tbody tr[data-element]"), function (tr) {
    return { id: tr.getAttribute("data-element"), waiting: tr.getAttribute("data-waiting"),
             median: tr.getAttribute("data-median"),
             heat: { waiting: +tr.getAttribute("data-heat-waiting"), median: +tr.getAttribute("data-heat-median") } };
  });
  var select = document.getElementById("hm-color");
  var metric = container.getAttribute("data-metric") || "waiting";

  function markers(m) {
    var out = {};
    for (var lv = 1; lv < LEVELS; lv++) { out["heat-" + lv] = []; }
    rows.forEach(function (r) { if (r.heat[m] > 0) { out["heat-" + r.heat[m]].push(r.id); } });
    return out;
  }

  function legends(m) {
    ["waiting", "median"].forEach(function (k) {
      var el = document.getElementById("heat-legend-" + k);
      if (el) { el.hidden = k !== m; }
    });
  }

  function paint(m) {
    var viewer = container.tierflowViewer;
    if (!viewer) { return; }
    var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry"), overlays = viewer.get("overlays");
    overlays.remove({ type: "heat" });
    rows.forEach(function (r) {
      if (!registry.get(r.id)) { return; }
      for (var lv = 1; lv < LEVELS; lv++) { canvas.removeMarker(r.id, "heat-" + lv); }
      if (r.heat[m] > 0) { canvas.addMarker(r.id, "heat-" + r.heat[m]); }
      var text = m === "waiting" ? (r.waiting !== "0" ? r.waiting : "") : (r.median !== "—" ? r.median : "");
      if (!text) { return; }
      var badge = document.createElement("span");
      badge.className = "heat-badge";
      badge.setAttribute("data-element", r.id);
      badge.textContent = text;
      overlays.add(r.id, "heat", { position: { top: -10, right: 10 }, html: badge });
    });
    container.setAttribute("data-metric", m);
    legends(m);
  }

  // a large diagram fitted to the window is too small to read its badges: open at zoom 1 on the hottest element
  function focusHottest(m) {
    var viewer = container.tierflowViewer;
    var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    var hot = rows.filter(function (r) { return r.heat[m] > 0 && registry.get(r.id); })
      .sort(function (a, b) { return b.heat[m] - a.heat[m]; })[0];
    if (!hot || canvas.zoom() >= 0.8) { return; }
    var el = registry.get(hot.id), vb;
    canvas.zoom(1);
    vb = canvas.viewbox();
    canvas.viewbox({ x: el.x + el.width / 2 - vb.width / 2, y: el.y + el.height / 2 - vb.height / 2,
                     width: vb.width, height: vb.height });
  }

  window.tierflowShowDiagram(container, container.getAttribute("data-diagram"), markers(metric));
  new MutationObserver(function (changes, observer) {
    if (container.getAttribute("data-ready") === "true") {
      observer.disconnect();
      paint(metric);
      focusHottest(metric);
    }
  }).observe(container, { attributes: true, attributeFilter: ["data-ready"] });
  if (select) {
    select.addEventListener("change", function () {
      metric = select.value;
      paint(metric);
    });
  }
}());
