// Shows a process diagram read-only (bpmn-js viewer, served from our static files) with elements marked:
// markers maps a CSS class to the element ids that get it. Sets data-ready (or data-error) on the container.
// Readable at any size: the container is as wide as the page; the mouse wheel zooms around the pointer, dragging
// pans; the toolbar (from <template id="diagram-tools"> in _diagram_viewer.html, so its labels are translated)
// zooms in, out, fits the whole diagram and goes back to the current step; with the diagram focused, + and -
// zoom, 0 fits and the arrow keys pan. On opening, a diagram too small to read when fitted is shown at a readable
// zoom with the current step (markers.current, else markers.token) in the middle.
(function () {
  "use strict";
  var READABLE = 0.8;  // below this zoom the labels are too small to read
  var MIN = 0.2, MAX = 3;

  function clamp(z) { return Math.max(MIN, Math.min(MAX, z)); }

  function centerOn(canvas, element) {
    var vb = canvas.viewbox();
    canvas.viewbox({ x: element.x + element.width / 2 - vb.width / 2, y: element.y + element.height / 2 - vb.height / 2,
                     width: vb.width, height: vb.height });
  }

  function focusCurrent(canvas, registry, ids) {
    var element = null;
    ids.some(function (id) { element = registry.get(id) || null; return !!element; });
    canvas.zoom("fit-viewport");
    if (element && canvas.zoom() < READABLE) {
      canvas.zoom(1);
      centerOn(canvas, element);
    } else if (canvas.zoom() > 1.2) {
      canvas.zoom(1.2);
    }
    return element;
  }

  function toolbar(container, actions) {
    var tpl = document.getElementById("diagram-tools");
    if (!tpl || !tpl.content) { return; }
    var bar = tpl.content.firstElementChild.cloneNode(true);
    Array.prototype.forEach.call(bar.querySelectorAll("button[data-action]"), function (b) {
      b.addEventListener("click", function () { actions[b.getAttribute("data-action")](); });
    });
    container.parentNode.insertBefore(bar, container);
    return bar;
  }

  window.tierflowShowDiagram = function (container, url, markers) {
    if (!container || typeof window.BpmnJS !== "function") { return; }
    container.classList.add("diagram-wide");
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
        markers = markers || {};
        Object.keys(markers).forEach(function (cls) {
          markers[cls].forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, cls); } });
        });
        var currentIds = (markers.current || []).concat(markers.token || []);
        var zoomBy = function (factor, point) { canvas.zoom(clamp(canvas.zoom() * factor), point); };
        var actions = {
          "zoom-in": function () { zoomBy(1.25); },
          "zoom-out": function () { zoomBy(0.8); },
          "fit": function () { canvas.zoom("fit-viewport"); },
          "current": function () { focusCurrent(canvas, registry, currentIds); }
        };
        var bar = toolbar(container, actions);
        if (bar && !currentIds.length) {
          var cur = bar.querySelector("[data-action=current]");
          if (cur) { cur.hidden = true; }
        }
        focusCurrent(canvas, registry, currentIds);

        container.addEventListener("wheel", function (ev) {
          ev.preventDefault();
          var rect = container.getBoundingClientRect();
          zoomBy(ev.deltaY < 0 ? 1.15 : 1 / 1.15, { x: ev.clientX - rect.left, y: ev.clientY - rect.top });
        }, { passive: false });

        var drag = null;
        container.addEventListener("pointerdown", function (ev) {
          if (ev.button !== 0) { return; }
          drag = { x: ev.clientX, y: ev.clientY };
          container.classList.add("panning");
        });
        window.addEventListener("pointermove", function (ev) {
          if (!drag) { return; }
          canvas.scroll({ dx: ev.clientX - drag.x, dy: ev.clientY - drag.y });
          drag = { x: ev.clientX, y: ev.clientY };
        });
        window.addEventListener("pointerup", function () { drag = null; container.classList.remove("panning"); });

        container.tabIndex = 0;
        // focusable, so not an image (an image's content is not operable): a labelled group
        if (container.getAttribute("role") === "img") { container.setAttribute("role", "group"); }
        container.addEventListener("keydown", function (ev) {
          var step = 60, handled = true;
          if (ev.key === "+" || ev.key === "=") { actions["zoom-in"](); }
          else if (ev.key === "-") { actions["zoom-out"](); }
          else if (ev.key === "0") { actions.fit(); }
          else if (ev.key === "ArrowLeft") { canvas.scroll({ dx: step, dy: 0 }); }
          else if (ev.key === "ArrowRight") { canvas.scroll({ dx: -step, dy: 0 }); }
          else if (ev.key === "ArrowUp") { canvas.scroll({ dx: 0, dy: step }); }
          else if (ev.key === "ArrowDown") { canvas.scroll({ dx: 0, dy: -step }); }
          else { handled = false; }
          if (handled) { ev.preventDefault(); ev.stopPropagation(); }
        });
        container.setAttribute("data-ready", "true");
        container.tierflowCanvas = canvas;  // for the browser tests: zoom and viewbox
        container.tierflowViewer = viewer;  // for pages that add overlays (heatmap.js)
      })
      .catch(function (err) { container.setAttribute("data-error", String(err)); });
  };
}());
