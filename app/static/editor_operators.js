/* The properties panel's part for service tasks (issue 18): the registered operators (services/operators.py,
   the same catalogue as GET /api/v1/service-operators, given to the page in #prop-service's data-operators) in a
   select, and a field per parameter of the chosen one. Written into the task's extension elements as
   workflows/service_calls.py reads them:
     <spiffworkflow:serviceTaskOperator id="notify"><spiffworkflow:parameters>
       <spiffworkflow:parameter id="recipients" type="str" value="&quot;enterprise&quot;"/> ...
   A parameter's value is an expression evaluated in the sandbox: what a person types is a text (written quoted);
   a value that begins with = is written as the expression after it. The deploy check refuses an unknown operator
   or a wrong parameter naming the element (editor.js shows it). No inline scripts (CSP). */
(function () {
  "use strict";
  var panel = document.getElementById("prop-service");
  var ed = window.tierflowEditor;
  if (!panel || !ed) { return; }
  var modeler = ed.modeler;
  var moddle = modeler.get("moddle");
  var modeling = modeler.get("modeling");
  var $ = function (id) { return document.getElementById(id); };
  var p = panel.dataset;
  var catalogue = [];
  try { catalogue = JSON.parse(p.operators || "[]"); } catch (err) { catalogue = []; }
  var english = (document.documentElement.lang || "").indexOf("en") === 0;
  var current = null;
  var select = $("f-operator");
  var OP = "spiffworkflow:ServiceTaskOperator";

  catalogue.forEach(function (op) {
    var o = document.createElement("option");
    o.value = op.name;
    o.textContent = english ? op.title_en : op.title;
    select.appendChild(o);
  });

  function spec(name) { return catalogue.filter(function (op) { return op.name === name; })[0] || null; }
  function operatorOf(bo) {
    var ext = bo.extensionElements;
    return ((ext && ext.values) || []).filter(function (v) { return v.$type === OP; })[0] || null;
  }
  function paramsOf(op) {
    var out = {};
    ((op && op.parameterList && op.parameterList.parameters) || []).forEach(function (x) { out[x.id] = x.value || ""; });
    return out;
  }
  function shown(expr) {  // a quoted text shows as the text; any other expression after =
    var t = (expr || "").trim();
    if (!t) { return ""; }
    if (/^"(?:[^"\\]|\\.)*"$/.test(t)) { try { return JSON.parse(t); } catch (err) { return "=" + t; } }
    return "=" + t;
  }
  function written(text) {
    if (text.charAt(0) === "=") { return text.slice(1).trim(); }
    return text ? JSON.stringify(text) : "";
  }

  function renderParams(name, values) {
    var box = $("f-op-params");
    box.textContent = "";
    var op = spec(name);
    $("f-op-hint").textContent = op ? p.msgExpr : p.msgNone;
    if (!op) { return; }
    op.params.forEach(function (param) {
      var label = document.createElement("label");
      var key = "label" + param.name.split("_").map(function (w) { return w.charAt(0).toUpperCase() + w.slice(1); }).join("");
      label.appendChild(document.createTextNode((p[key] || param.name) + (param.required ? " *" : "") + " "));
      var input = param.name === "template" ? document.createElement("textarea") : document.createElement("input");
      input.id = "f-op-" + param.name;
      input.dataset.param = param.name;
      input.dataset.type = param.type;
      if (input.tagName === "TEXTAREA") { input.rows = 3; }
      if (param.name === "recipients") { input.setAttribute("list", "op-recipients"); }
      input.spellcheck = false;
      input.value = shown(values[param.name]);
      input.addEventListener("change", function () { if (current) { write(current); } });
      label.appendChild(input);
      if (param.help) {
        var help = document.createElement("span");
        help.className = "hint";
        help.textContent = param.help;
        label.appendChild(help);
      }
      box.appendChild(label);
    });
  }

  function write(element) {
    var bo = element.businessObject;
    var ext = bo.extensionElements;
    if (!ext) { ext = moddle.create("bpmn:ExtensionElements", { values: [] }); ext.$parent = bo; }
    var values = (ext.values || []).filter(function (v) { return v.$type !== OP; });
    var name = select.value;
    if (name) {
      var op = moddle.create(OP, { id: name });
      var list = moddle.create("spiffworkflow:Parameters", { parameters: [] });
      op.$parent = ext; list.$parent = op; op.parameterList = list;
      Array.prototype.forEach.call($("f-op-params").querySelectorAll("[data-param]"), function (input) {
        var value = written(input.value.trim());
        if (!value) { return; }  // left out: the deploy check names a required one that is missing
        var x = moddle.create("spiffworkflow:Parameter", { id: input.dataset.param, type: input.dataset.type, value: value });
        x.$parent = list;
        list.parameters.push(x);
      });
      values.push(op);
    }
    ext.values = values;
    modeling.updateProperties(element, { extensionElements: ext });
  }

  function fill(element) {
    current = element && element.type !== "label" && element.businessObject &&
      element.businessObject.$type === "bpmn:ServiceTask" ? element : null;
    panel.hidden = !current;
    if (!current) { return; }
    var op = operatorOf(current.businessObject);
    select.value = op && spec(op.id) ? op.id : "";
    renderParams(select.value, paramsOf(op));
  }

  select.addEventListener("change", function () {
    if (!current) { return; }
    var kept = {};  // what was typed for a parameter of the same name is kept across operators
    Array.prototype.forEach.call($("f-op-params").querySelectorAll("[data-param]"), function (input) {
      kept[input.dataset.param] = written(input.value.trim());
    });
    renderParams(select.value, kept);
    write(current);
  });
  modeler.on("selection.changed", function (e) { fill(e.newSelection[0] || null); });
}());
