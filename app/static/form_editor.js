/* The form field editor of the diagram editor (admin): the fields of one task form (a JSON Schema object, as in
   bpmn/forms/*.json) listed, added, removed, reordered and edited one by one: key, type, required, Chinese label
   (title), English label (x-title-en), help (description / x-description-en), limits, choices (enum with
   x-enum-titles / x-enum-titles-en), multi-line text (x-widget textarea), radio buttons (x-widget radio),
   attachments (format attachment). Plain DOM, no library; the labels of the static inputs are in the template,
   the few generated ones come from data attributes (Flask-Babel). editor.js owns the schema and the JSON text:
   it calls load(schema) and hears every change through onChange(schema). */
(function () {
  "use strict";
  var KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

  function kindOf(prop) {
    if (prop.format === "attachment") { return "attachment"; }
    if (prop.type === "object") { return "object"; }
    if (prop.type === "array") { return "array"; }
    if (Array.isArray(prop["enum"])) { return prop["x-widget"] === "radio" ? "enum-radio" : "enum"; }
    return ["string", "integer", "number", "boolean"].indexOf(prop.type) >= 0 ? prop.type : "string";
  }

  // what a field keeps when its type changes: labels, help and the bilingual extras; the rest follows the type
  var COMMON = ["title", "x-title-en", "description", "x-description-en", "x-fresh", "default"];

  function retype(prop, kind) {
    var out = {};
    COMMON.forEach(function (k) { if (prop[k] !== undefined) { out[k] = prop[k]; } });
    var choices = Array.isArray(prop["enum"]) ? prop["enum"] : (prop.items && prop.items["enum"]) || [];
    var titles = prop["x-enum-titles"], titlesEn = prop["x-enum-titles-en"];
    if (kind === "attachment") {
      out.type = "array"; out.items = { type: "integer" }; out.format = "attachment";
    } else if (kind === "array") {
      out.type = "array"; out.items = { type: "string", "enum": choices.slice() }; out.uniqueItems = true;
    } else if (kind === "enum" || kind === "enum-radio") {
      out.type = "string"; out["enum"] = choices.slice();
      if (kind === "enum-radio") { out["x-widget"] = "radio"; }
    } else if (kind === "object") {
      out.type = "object"; out.properties = prop.properties || {};
    } else {
      out.type = kind;
    }
    if (kind === "array" || kind === "enum" || kind === "enum-radio") {
      if (titles) { out["x-enum-titles"] = titles; }
      if (titlesEn) { out["x-enum-titles-en"] = titlesEn; }
    }
    return out;
  }

  // which limits a kind has: [min name, max name] or null
  function rangeOf(kind) {
    if (kind === "integer" || kind === "number") { return ["minimum", "maximum"]; }
    if (kind === "array" || kind === "attachment") { return ["minItems", "maxItems"]; }
    return null;
  }

  function options(prop) {
    var values = Array.isArray(prop["enum"]) ? prop["enum"] : (prop.items && prop.items["enum"]) || [];
    var zh = prop["x-enum-titles"] || {}, en = prop["x-enum-titles-en"] || {};
    return values.map(function (v) {
      return [v, zh[v] || "", en[v] || ""].join(" | ").replace(/( \| )+$/, "");
    }).join("\n");
  }

  function setOptions(prop, text) {
    var values = [], zh = {}, en = {};
    var numeric = prop.type === "integer" || prop.type === "number";  // e.g. a level chosen from 1..5
    text.split("\n").forEach(function (line) {
      var parts = line.split("|").map(function (s) { return s.trim(); });
      if (!parts[0] || values.indexOf(parts[0]) >= 0) { return; }
      if (numeric && !isFinite(Number(parts[0]))) { return; }
      values.push(parts[0]);
      if (parts[1]) { zh[parts[0]] = parts[1]; }
      if (parts[2]) { en[parts[0]] = parts[2]; }
    });
    var typed = numeric ? values.map(Number) : values;
    if (prop.type === "array") { prop.items = { type: "string", "enum": values }; } else { prop["enum"] = typed; }
    if (Object.keys(zh).length) { prop["x-enum-titles"] = zh; } else { delete prop["x-enum-titles"]; }
    if (Object.keys(en).length) { prop["x-enum-titles-en"] = en; } else { delete prop["x-enum-titles-en"]; }
  }

  function FormEditor(root, onChange) {
    var $ = function (id) { return document.getElementById(id); };
    var d = root.dataset;
    var schema = null;
    var selected = null;
    var list = $("fe-list");

    function props() {
      if (!schema.properties || typeof schema.properties !== "object") { schema.properties = {}; }
      return schema.properties;
    }
    function required() { return Array.isArray(schema.required) ? schema.required : []; }
    function changed() { onChange(schema); }
    function say(text, kind) { $("fe-status").textContent = text || ""; $("fe-status").className = kind || ""; }

    // rebuild the properties object with the keys in `order` (JSON objects keep insertion order)
    function reorder(order, rename) {
      var old = props(), out = {};
      order.forEach(function (k) { out[rename && rename[0] === k ? rename[1] : k] = old[k]; });
      schema.properties = out;
    }

    function button(text, label, action) {
      var b = document.createElement("button");
      b.type = "button"; b.textContent = text; b.setAttribute("aria-label", label);
      b.addEventListener("click", action);
      return b;
    }

    function renderList(focus) {
      list.textContent = "";
      var keys = Object.keys(props());
      if (!keys.length) {
        var empty = document.createElement("li");
        empty.className = "fe-empty"; empty.textContent = d.msgNoFields;
        list.appendChild(empty);
      }
      keys.forEach(function (k, i) {
        var p = props()[k] || {};
        var li = document.createElement("li");
        li.dataset.key = k;
        if (k === selected) { li.className = "selected"; }
        var shown = k + (p.title ? " · " + p.title : "") + (required().indexOf(k) >= 0 ? " *" : "");
        // the accessible name starts with what is shown (WCAG 2.5.3 label in name)
        var pick = button(shown, shown + " · " + d.msgEdit, function () { select(k, true); });
        pick.className = "fe-pick";
        pick.setAttribute("aria-pressed", k === selected ? "true" : "false");
        li.appendChild(pick);
        var up = button("↑", d.msgUp + " " + k, function () { move(k, -1); });
        var down = button("↓", d.msgDown + " " + k, function () { move(k, 1); });
        up.className = "fe-up"; down.className = "fe-down";
        up.disabled = i === 0; down.disabled = i === keys.length - 1;
        li.appendChild(up); li.appendChild(down);
        var rm = button("✕", d.msgRemove + " " + k, function () { remove(k); });
        rm.className = "fe-remove";
        li.appendChild(rm);
        list.appendChild(li);
      });
      if (focus) {
        var target = list.querySelector('li[data-key="' + focus[0] + '"] .' + focus[1]);
        if (target && !target.disabled) { target.focus(); }
        else if (list.querySelector('li[data-key="' + focus[0] + '"] .fe-pick')) {
          list.querySelector('li[data-key="' + focus[0] + '"] .fe-pick').focus();
        }
      }
    }

    function show(id, on) { $(id).hidden = !on; }

    function renderDetail() {
      var p = selected !== null ? props()[selected] : null;
      show("fe-detail", !!p);
      if (!p) { return; }
      var kind = kindOf(p);
      $("fe-current").textContent = selected;
      $("fe-key").value = selected;
      $("fe-type").value = kind;
      $("fe-type").disabled = kind === "object";
      $("fe-required").checked = required().indexOf(selected) >= 0;
      $("fe-title").value = p.title || "";
      $("fe-title-en").value = p["x-title-en"] || "";
      $("fe-help").value = p.description || "";
      $("fe-help-en").value = p["x-description-en"] || "";
      var range = rangeOf(kind);
      show("fe-range", !!range);
      if (range) {
        $("fe-min").value = p[range[0]] !== undefined ? p[range[0]] : "";
        $("fe-max").value = p[range[1]] !== undefined ? p[range[1]] : "";
        $("fe-min").step = kind === "number" ? "any" : "1";
        $("fe-max").step = kind === "number" ? "any" : "1";
      }
      show("fe-length", kind === "string");
      show("fe-multiline-row", kind === "string");
      $("fe-min-length").value = p.minLength !== undefined ? p.minLength : "";
      $("fe-max-length").value = p.maxLength !== undefined ? p.maxLength : "";
      $("fe-multiline").checked = p["x-widget"] === "textarea";
      var choice = kind === "enum" || kind === "enum-radio" || kind === "array";
      show("fe-options-row", choice);
      $("fe-options").value = choice ? options(p) : "";
    }

    function select(key, focusDetail) {
      selected = key;
      renderList([key, "fe-pick"]);
      renderDetail();
      if (focusDetail) { $("fe-key").focus(); }
    }

    function move(key, by) {
      var keys = Object.keys(props());
      var i = keys.indexOf(key), j = i + by;
      if (j < 0 || j >= keys.length) { return; }
      keys.splice(i, 1); keys.splice(j, 0, key);
      reorder(keys);
      changed();
      renderList([key, by < 0 ? "fe-up" : "fe-down"]);
    }

    function remove(key) {
      var keys = Object.keys(props());
      var i = keys.indexOf(key);
      delete props()[key];
      if (Array.isArray(schema.required)) {
        schema.required = schema.required.filter(function (k) { return k !== key; });
      }
      if (selected === key) { selected = null; }
      changed();
      var rest = Object.keys(props());
      renderList(rest.length ? [rest[Math.min(i, rest.length - 1)], "fe-pick"] : null);
      renderDetail();
      if (!rest.length) { $("fe-add").focus(); }
      say(d.msgRemoved + " " + key, "ok");
    }

    function add() {
      var n = Object.keys(props()).length + 1, key = "field_" + n;
      while (props()[key]) { n += 1; key = "field_" + n; }
      props()[key] = { type: "string", title: "", "x-title-en": "" };
      changed();
      select(key, true);
    }

    // -- edits of the selected field --------------------------------------------------------------------------
    function edit(id, apply) {
      $(id).addEventListener("change", function () {
        if (selected === null || !props()[selected]) { return; }
        if (apply(props()[selected], $(id)) === false) { return; }
        changed();
        renderList(null);
        renderDetail();
      });
    }
    function text(name) {
      return function (p, input) {
        var v = input.value.trim();
        if (v) { p[name] = v; } else { delete p[name]; }
      };
    }
    function num(which) {
      return function (p, input) {
        var range = which === "min" || which === "max" ? rangeOf(kindOf(p)) : null;
        var name = range ? range[which === "min" ? 0 : 1] : which;
        var raw = input.value.trim();
        if (raw === "") { delete p[name]; return; }
        var v = Number(raw);
        if (!isFinite(v)) { say(d.msgNumber, "error"); return false; }
        p[name] = v;
      };
    }

    $("fe-key").addEventListener("change", function () {
      if (selected === null) { return; }
      var key = $("fe-key").value.trim();
      if (key === selected) { return; }
      if (!KEY.test(key)) { say(d.msgBadKey, "error"); $("fe-key").value = selected; return; }
      if (props()[key]) { say(d.msgTaken + " " + key, "error"); $("fe-key").value = selected; return; }
      reorder(Object.keys(props()), [selected, key]);
      if (Array.isArray(schema.required)) {
        schema.required = schema.required.map(function (k) { return k === selected ? key : k; });
      }
      selected = key;
      say("", "");
      changed();
      renderList(null);
      renderDetail();
    });
    edit("fe-type", function (p, input) { props()[selected] = retype(p, input.value); });
    edit("fe-required", function (_p, input) {
      var req = required().filter(function (k) { return k !== selected; });
      if (input.checked) { req.push(selected); }
      schema.required = req;
    });
    edit("fe-title", text("title"));
    edit("fe-title-en", text("x-title-en"));
    edit("fe-help", text("description"));
    edit("fe-help-en", text("x-description-en"));
    edit("fe-min", num("min"));
    edit("fe-max", num("max"));
    edit("fe-min-length", num("minLength"));
    edit("fe-max-length", num("maxLength"));
    edit("fe-multiline", function (p, input) {
      if (input.checked) { p["x-widget"] = "textarea"; } else if (p["x-widget"] === "textarea") { delete p["x-widget"]; }
    });
    edit("fe-options", function (p, input) { setOptions(p, input.value); });
    $("fe-add").addEventListener("click", add);

    return {
      /* Show the fields of `s` (the object itself is edited in place); keeps the selected field if it is still
         there. null: no form. */
      load: function (s) {
        schema = s && typeof s === "object" && !Array.isArray(s) ? s : null;
        root.hidden = !schema;
        if (!schema) { return; }
        if (selected !== null && !props()[selected]) { selected = null; }
        say("", "");
        renderList(null);
        renderDetail();
      }
    };
  }

  window.TierflowFormEditor = FormEditor;
}());
