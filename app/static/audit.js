// The audit replay page: the step slider shows its value and moves to the chosen step on release; arrow keys step
// back and forward; the diagram (bpmn-js viewer, served from our static files) marks the active elements.
(function () {
  "use strict";
  var section = document.getElementById("replay");
  if (!section) { return; }
  var slider = document.getElementById("step-slider");
  var output = document.getElementById("step-value");
  var form = document.getElementById("step-form");
  var last = section.getAttribute("data-last");

  if (slider && form) {
    slider.addEventListener("input", function () {
      if (output) { output.textContent = slider.value + " / " + last; }
      slider.setAttribute("aria-valuetext", slider.value + " / " + last);
    });
    slider.addEventListener("change", function () { form.submit(); });
  }

  document.addEventListener("keydown", function (ev) {
    var target = ev.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) {
      return;
    }
    var link = null;
    if (ev.key === "ArrowLeft") { link = document.getElementById("step-back"); }
    if (ev.key === "ArrowRight") { link = document.getElementById("step-forward"); }
    if (link) { ev.preventDefault(); window.location.assign(link.href); }
  });

  var container = document.getElementById("diagram");
  if (!container || typeof window.BpmnJS !== "function") { return; }
  var active = (section.getAttribute("data-active") || "").split(" ").filter(Boolean);
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
      active.forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, "token"); }
      });
      container.setAttribute("data-ready", "true");
    })
    .catch(function (err) {
      container.setAttribute("data-error", String(err));
    });
}());
