/* The properties panel's part for service tasks (issue 18): the registered operators (services/operators.py,
   the same catalogue as GET /api/v1/service-operators, given to the page in #prop-service's data-operators) in a
   select, and a field per parameter of the chosen one. Written into the task's extension elements as
   workflows/service_calls.py reads them:
     <spiffworkflow:serviceTaskOperator id="notify"><spiffworkflow:parameters>
       <spiffworkflow:parameter id="recipients" type="str" value="&quot;enterprise&quot;"/> ...
   A parameter's value is an expression evaluated in the sandbox: what a person types is a text (written quoted);
   a value that begins with = is written as the expression after it. The deploy check refuses an unknown operator
   or a wrong parameter naming the element (editor.js shows it). No inline scripts (CSP).
   Each parameter shows its label from the registry (services/operators.register refuses a parameter without one),
   never its identifier; a parameter the operator does not have (or any of an operator not registered) is shown as
   未知参数 / 未知操作 with its name as code, kept as written until the administrator empties it. In a help text,
   `backquoted` parts are what a person types: shown as code. */
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
  function say(param, key) { return (english && param[key + "_en"]) || param[key] || ""; }
  function operatorOf(bo) {
    var ext = bo.extensionElements;
    return ((ext && ext.values) || []).filter(function (v) { return v.$type === OP; })[0] || null;
  }
  function paramsOf(op) {  // name -> {value (an expression), type} as the diagram has them
    var out = {};
    ((op && op.parameterList && op.parameterList.parameters) || []).forEach(function (x) {
      out[x.id] = { value: x.value || "", type: x.type || "str" };
    });
    return out;
  }
  function shown(expr, type) {  // a quoted text shows as the text (a number as itself); any other expression after =
    var t = (expr || "").trim();
    if (!t) { return ""; }
    if (type === "int" && /^-?\d+$/.test(t)) { return t; }
    if (/^"(?:[^"\\]|\\.)*"$/.test(t)) { try { return JSON.parse(t); } catch (err) { return "=" + t; } }
    return "=" + t;
  }
  function written(text, type) {
    if (text.charAt(0) === "=") { return text.slice(1).trim(); }
    if (type === "int" && /^-?\d+$/.test(text)) { return text; }  // a whole number typed for a number parameter
    return text ? JSON.stringify(text) : "";
  }
  function code(text) {
    var c = document.createElement("code");
    c.setAttribute("translate", "no");
    c.textContent = text;
    return c;
  }
  function helpText(text) {  // `backquoted` parts are typed as they are: code, not prose
    var span = document.createElement("span");
    span.className = "hint";
    text.split("`").forEach(function (part, i) {
      if (part) { span.appendChild(i % 2 ? code(part) : document.createTextNode(part)); }
    });
    return span;
  }

  function field(param, value, unknown) {
    var label = document.createElement("label");
    var caption = document.createElement("span");
    if (unknown) {  // not the operator's: marked in words, its name only as code beside it
      label.className = "op-unknown";
      caption.appendChild(document.createTextNode(p.labelUnknown + " "));
      caption.appendChild(code(param.name));
    } else {
      caption.textContent = say(param, "label") + (param.required ? " *" : "");
    }
    label.appendChild(caption);
    label.appendChild(document.createTextNode(" "));
    var input = param.name === "template" && !unknown ? document.createElement("textarea") : document.createElement("input");
    input.id = "f-op-" + param.name;
    input.dataset.param = param.name;
    input.dataset.type = param.type;
    if (input.tagName === "TEXTAREA") { input.rows = 3; }
    if (param.name === "recipients" && !unknown) { input.setAttribute("list", "op-recipients"); }
    input.spellcheck = false;
    input.value = shown(value, param.type);
    input.addEventListener("change", function () { if (current) { write(current); } });
    label.appendChild(input);
    var help = unknown ? p.msgUnknown : say(param, "help");
    if (help) { label.appendChild(helpText(help)); }
    return label;
  }

  function renderParams(name, given) {
    var box = $("f-op-params");
    box.textContent = "";
    var op = spec(name);
    $("f-op-hint").textContent = op ? p.msgExpr : (name ? p.msgUnknownOp : p.msgNone);
    if (!name) { return; }
    var known = {};
    (op ? op.params : []).forEach(function (param) {
      known[param.name] = true;
      box.appendChild(field(param, (given[param.name] || {}).value, false));
    });
    Object.keys(given).forEach(function (other) {
      if (!known[other]) { box.appendChild(field({ name: other, type: given[other].type }, given[other].value, true)); }
    });
  }

  function showOperator(name) {  // an operator the registry does not have stays selectable as it is, marked
    Array.prototype.forEach.call(select.querySelectorAll("option.op-unknown"), function (o) { o.remove(); });
    if (name && !spec(name)) {
      var o = document.createElement("option");
      o.value = name;
      o.className = "op-unknown";
      o.textContent = p.labelUnknownOp + " " + name;
      select.appendChild(o);
    }
    select.value = name || "";
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
        var value = written(input.value.trim(), input.dataset.type);
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
    showOperator(op ? op.id : "");
    renderParams(select.value, paramsOf(op));
  }

  select.addEventListener("change", function () {
    if (!current) { return; }
    var kept = {};  // what was typed for a parameter the chosen operator also has is kept across operators
    var op = spec(select.value);
    var names = (op ? op.params : []).map(function (param) { return param.name; });
    Array.prototype.forEach.call($("f-op-params").querySelectorAll("[data-param]"), function (input) {
      if (names.indexOf(input.dataset.param) >= 0) {
        kept[input.dataset.param] = { value: written(input.value.trim(), input.dataset.type), type: input.dataset.type };
      }
    });
    showOperator(select.value);
    renderParams(select.value, kept);
    write(current);
  });
  modeler.on("selection.changed", function (e) { fill(e.newSelection[0] || null); });
}());
