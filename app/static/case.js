// The case page: the process diagram with the current position (open human tasks) and the path taken (completed
// steps) marked, through the shared viewer (diagram.js).
(function () {
  "use strict";
  var section = document.getElementById("case-diagram-section");
  if (!section || !window.tierflowShowDiagram) { return; }
  var ids = function (name) { return (section.getAttribute(name) || "").split(" ").filter(Boolean); };
  window.tierflowShowDiagram(document.getElementById("case-diagram"), section.getAttribute("data-diagram"),
                             { path: ids("data-path"), current: ids("data-current") });
}());
