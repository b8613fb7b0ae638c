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

  var active = (section.getAttribute("data-active") || "").split(" ").filter(Boolean);
  if (window.tierflowShowDiagram) {
    window.tierflowShowDiagram(document.getElementById("diagram"), section.getAttribute("data-diagram"),
                               { token: active });
  }
}());
