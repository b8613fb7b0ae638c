// The tile map as a PNG (issue 19, part 2): the map is HTML (templates/dashboard/index.html), so it is drawn again on
// a canvas from what the page shows — each square's short name (data-short), value, colour (its computed style) and outline, the SOE
// groups' row, the legend, and the section's heading (tier, campaign, figure) as the title — then downloaded with
// canvas.toDataURL. The button (data-tilemap-png) stays hidden until this script runs.
// Layout, in CSS pixels before SCALE (tests/browser/test_tile_map.py reads the same numbers): a square at column c,
// row r has its top-left corner at (PAD + c * (TILE + GAP), TOP + r * (TILE + GAP)).
(function () {
  "use strict";
  var SCALE = 2, PAD = 16, TOP = 56, TILE = 84, GAP = 6, COLUMNS = 8, ROWS = 8;
  var HATCH = ["#eceff1", "#cfd8dc"];
  var button = document.querySelector("button[data-tilemap-png]");
  var section = document.getElementById("tile-map");
  if (!button || !section || !document.createElement("canvas").getContext) { return; }
  var font = window.getComputedStyle(document.body).fontFamily || "sans-serif";

  function text(el) { return el ? el.textContent.replace(/\s+/g, " ").trim() : ""; }

  function describe(el) {
    var style = window.getComputedStyle(el);
    return {
      fill: style.backgroundColor,
      hatch: /gradient/.test(style.backgroundImage || ""),
      color: style.color,
      border: style.borderTopColor,
      borderWidth: parseFloat(style.borderTopWidth) || 1,
      dashed: style.borderTopStyle === "dashed"
    };
  }

  function fitFont(ctx, words, size, width, weight) {
    var s = size;
    do {
      ctx.font = (weight || "") + " " + s + "px " + font;
      s -= 1;
    } while (s > 8 && ctx.measureText(words).width > width);
    return ctx.font;
  }

  function box(ctx, x, y, w, h, look) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(x, y, w, h);
    ctx.clip();
    if (look.hatch) {  // the page's repeating 45° stripes (lvl-x: unknown or not applicable)
      ctx.fillStyle = HATCH[0];
      ctx.fillRect(x, y, w, h);
      ctx.strokeStyle = HATCH[1];
      ctx.lineWidth = 6 / Math.SQRT2 * 1.4;
      for (var d = -h; d < w + h; d += 12) {
        ctx.beginPath();
        ctx.moveTo(x + d, y + h);
        ctx.lineTo(x + d + h, y);
        ctx.stroke();
      }
    } else {
      ctx.fillStyle = look.fill === "rgba(0, 0, 0, 0)" ? "#ffffff" : look.fill;
      ctx.fillRect(x, y, w, h);
    }
    ctx.restore();
    ctx.save();
    ctx.strokeStyle = look.border;
    ctx.lineWidth = look.borderWidth;
    if (look.dashed) { ctx.setLineDash([4, 3]); }
    ctx.strokeRect(x + look.borderWidth / 2, y + look.borderWidth / 2, w - look.borderWidth, h - look.borderWidth);
    ctx.restore();
  }

  function square(ctx, el, x, y, w, h) {
    var look = describe(el);
    box(ctx, x, y, w, h, look);
    var name = el.getAttribute("data-short") || text(el.querySelector(".tile-name"));
    var value = text(el.querySelector(".tile-value"));
    ctx.fillStyle = look.color;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    var lines = [name];
    ctx.font = "14px " + font;
    if (name.indexOf(" ") > 0 && ctx.measureText(name).width > w - 8) {  // an English name: wrapped at its spaces
      ctx.font = "12px " + font;
      lines = [];
      name.split(" ").forEach(function (word) {
        var last = lines.length - 1;
        if (last >= 0 && ctx.measureText(lines[last] + " " + word).width <= w - 8) {
          lines[last] += " " + word;
        } else {
          lines.push(word);
        }
      });
    }
    var top = y + h / 2 - (value ? 10 : 0) - (lines.length - 1) * 7;
    lines.forEach(function (line, i) {
      ctx.font = fitFont(ctx, line, lines.length > 1 ? 12 : 14, w - 8);
      ctx.fillText(line, x + w / 2, top + i * 14);
    });
    if (value) {
      ctx.font = fitFont(ctx, value, 15, w - 8, "bold");
      ctx.fillText(value, x + w / 2, y + h / 2 + 12 + (lines.length - 1) * 4);
    }
  }

  function draw() {
    var gridWidth = COLUMNS * TILE + (COLUMNS - 1) * GAP;
    var width = PAD * 2 + gridWidth;
    var groups = section.querySelectorAll(".tile-row .tile");
    var groupW = 2 * TILE + GAP, groupH = 56, perLine = COLUMNS / 2;
    var groupLines = Math.ceil(groups.length / perLine);
    var gridBottom = TOP + ROWS * TILE + (ROWS - 1) * GAP;
    var groupsTop = gridBottom + (groups.length ? 40 : 0);
    var legendTop = groupsTop + groupLines * (groupH + GAP) + 16;
    var legend = section.querySelectorAll("#tile-legend li");
    var height = legendTop + 32 + legend.length * 26 + PAD;
    var canvas = document.createElement("canvas");
    canvas.width = width * SCALE;
    canvas.height = height * SCALE;
    var ctx = canvas.getContext("2d");
    ctx.scale(SCALE, SCALE);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#1a1a1a";
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.font = fitFont(ctx, text(document.getElementById("tiles-title")), 20, width - 2 * PAD, "bold");
    ctx.fillText(text(document.getElementById("tiles-title")), PAD, TOP / 2);

    Array.prototype.forEach.call(section.querySelectorAll(".tile-grid .tile-cell"), function (cell) {
      var col = /(?:^|\s)c(\d)(?:\s|$)/.exec(cell.className), row = /(?:^|\s)r(\d)(?:\s|$)/.exec(cell.className);
      var el = cell.querySelector(".tile");
      if (!col || !row || !el) { return; }
      square(ctx, el, PAD + Number(col[1]) * (TILE + GAP), TOP + Number(row[1]) * (TILE + GAP), TILE, TILE);
    });
    if (groups.length) {
      ctx.fillStyle = "#1a1a1a";
      ctx.textAlign = "left";
      ctx.font = "bold 15px " + font;
      ctx.fillText(text(document.getElementById("groups-title")), PAD, gridBottom + 20);
      Array.prototype.forEach.call(groups, function (el, i) {
        square(ctx, el, PAD + (i % perLine) * (groupW + GAP), groupsTop + Math.floor(i / perLine) * (groupH + GAP),
               groupW, groupH);
      });
    }
    ctx.fillStyle = "#1a1a1a";
    ctx.textAlign = "left";
    ctx.font = "bold 15px " + font;
    ctx.fillText(text(document.getElementById("legend-title")), PAD, legendTop + 10);
    Array.prototype.forEach.call(legend, function (li, i) {
      var y = legendTop + 32 + i * 26;
      var swatch = li.querySelector(".swatch");
      if (swatch) { box(ctx, PAD, y - 9, 18, 18, describe(swatch)); }
      ctx.fillStyle = "#1a1a1a";
      ctx.textAlign = "left";
      ctx.font = "14px " + font;
      ctx.fillText(text(li), PAD + 28, y);
    });
    return canvas;
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    var link = document.createElement("a");
    link.href = draw().toDataURL("image/png");
    link.download = button.getAttribute("data-tilemap-png") || "tile-map.png";
    document.body.appendChild(link);
    link.click();
    link.remove();
  });
}());
