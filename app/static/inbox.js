// The inbox: "select all on this page" for a bulk decision and the number of tasks selected. Without scripts the
// boxes are ticked one by one; the page works the same.
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  if (!form) { return; }
  var all = document.getElementById("select-all");
  var counter = document.getElementById("selected-count");
  var picks = function () { return Array.prototype.slice.call(document.querySelectorAll("input.pick")); };

  function update() {
    var n = picks().filter(function (box) { return box.checked; }).length;
    if (counter) { counter.textContent = n ? "✓ " + n : ""; }
    if (all) { all.setAttribute("aria-pressed", n && n === picks().length ? "true" : "false"); }
  }

  if (all) {
    all.hidden = false;
    all.addEventListener("click", function () {
      var boxes = picks();
      var every = boxes.every(function (box) { return box.checked; });
      boxes.forEach(function (box) { box.checked = !every; });
      update();
    });
  }
  picks().forEach(function (box) { box.addEventListener("change", update); });
  update();
}());
