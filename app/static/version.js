/* A version's diagram (bpmn-js viewer) with the elements added and changed against the compared version marked. */
(function () {
  "use strict";
  var el = document.getElementById("canvas");
  if (!el || typeof BpmnJS === "undefined") { return; }
  var viewer = new BpmnJS({ container: el });
  fetch(el.dataset.xmlUrl, { credentials: "same-origin" })
    .then(function (r) { return r.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport");
      [["added", "diff-added"], ["changed", "diff-changed"]].forEach(function (pair) {
        (el.dataset[pair[0]] || "").split(" ").forEach(function (id) {
          if (id && registry.get(id)) { canvas.addMarker(id, pair[1]); }
        });
      });
      el.classList.add("ready");
    });
}());
