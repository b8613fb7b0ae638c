// The case page: the process diagram (bpmn-js viewer, served from our static files) with the current position
// (open human tasks) and the path taken (completed steps) marked.
(function () {
  "use strict";
  var section = document.getElementById("case-diagram-section");
  var container = document.getElementById("case-diagram");
  if (!section || !container || typeof window.BpmnJS !== "function") { return; }
  var ids = function (name) { return (section.getAttribute(name) || "").split(" ").filter(Boolean); };
  var viewer = new window.BpmnJS({ container: container });
  fetch(section.getAttribute("data-diagram"), { credentials: "same-origin" })
    .then(function (resp) {
      if (!resp.ok) { throw new Error("diagram " + resp.status); }
      return resp.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport");
      ids("data-path").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "path"); } });
      ids("data-current").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "current"); } });
      container.setAttribute("data-ready", "true");
    })
    .catch(function (err) { container.setAttribute("data-error", String(err)); });
}());
