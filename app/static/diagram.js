// Shows a process diagram read-only (bpmn-js viewer, served from our static files) with elements marked:
// markers maps a CSS class to the element ids that get it. Sets data-ready (or data-error) on the container.
(function () {
  "use strict";
  window.tierflowShowDiagram = function (container, url, markers) {
    if (!container || typeof window.BpmnJS !== "function") { return; }
    var viewer = new window.BpmnJS({ container: container });
    fetch(url, { credentials: "same-origin" })
      .then(function (resp) {
        if (!resp.ok) { throw new Error("diagram " + resp.status); }
        return resp.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        Object.keys(markers || {}).forEach(function (cls) {
          markers[cls].forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, cls); } });
        });
        container.setAttribute("data-ready", "true");
      })
      .catch(function (err) { container.setAttribute("data-error", String(err)); });
  };
}());
