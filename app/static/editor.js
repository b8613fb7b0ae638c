// long-file: one bpmn-js Modeler and the properties panel that edits what it holds; they share its state
/* The process diagram editor (admin): bpmn-js Modeler from our static files, a properties panel for what the
   engine reads (lane name = role; user task form, due, status, English title as spiffworkflow:properties; timers;
   conditions; message names and their correlation properties and keys), the form JSON Schemas beside the
   diagram with a field-by-field editor (form_editor.js) kept in sync with the JSON text, save draft / validate /
   deploy, and the problems the server finds marked on their elements. No inline scripts or styles (CSP). */
(function () {
  "use strict";
  var root = document.getElementById("editor");
  if (!root || typeof BpmnJS === "undefined") { return; }  // the DMN editor below, or another page
  var d = root.dataset;
  var body = function (name) { return { name: name, superClass: ["Element"], properties: [{ name: "value", isBody: true, type: "String" }] }; };
  var SPIFF = {
    name: "SpiffWorkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core", prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" }, associations: [],
    types: [
      { name: "Properties", superClass: ["Element"], properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"], properties: [
        { name: "name", isAttr: true, type: "String" }, { name: "value", isAttr: true, type: "String" }] },
      body("MessageVariable"), body("PreScript"), body("PostScript"), body("CalledDecisionId"),
      body("MessagePayload"), body("InstructionsForEndUser"), body("ResultVariable"),
      // a service task's operator and its parameters (editor_operators.js; workflows/service_calls.py reads them)
      { name: "ServiceTaskOperator", superClass: ["Element"], properties: [
        { name: "id", isAttr: true, type: "String" }, { name: "parameterList", type: "Parameters" }] },
      { name: "Parameters", superClass: ["Element"], properties: [{ name: "parameters", type: "Parameter", isMany: true }] },
      { name: "Parameter", superClass: ["Element"], properties: [
        { name: "id", isAttr: true, type: "String" }, { name: "type", isAttr: true, type: "String" },
        { name: "value", isAttr: true, type: "String" }] }
    ]
  };
  var modeler = new BpmnJS({ container: "#canvas", moddleExtensions: { spiffworkflow: SPIFF },
                             additionalModules: [window.tierflowTranslateModule || {}] });  // translate_zh.js
  var moddle = modeler.get("moddle");
  window.tierflowEditor = { modeler: modeler };  // the service-task part of the panel (editor_operators.js)
  var modeling = modeler.get("modeling");
  var canvas = modeler.get("canvas");
  var overlays = modeler.get("overlays");
  var selection = modeler.get("selection");
  var registry = modeler.get("elementRegistry");
  var forms = {};
  var current = null;
  var marked = [];
  var $ = function (id) { return document.getElementById(id); };
  var status = $("status");

  function say(text, kind) { status.textContent = text; status.className = kind || ""; }

  // -- spiffworkflow:properties --------------------------------------------------------------------------------
  function propsOf(bo) {
    var out = {};
    var ext = bo.extensionElements;
    var values = (ext && ext.values) || [];
    values.forEach(function (v) {
      if (v.$type === "spiffworkflow:Properties") {
        (v.properties || []).forEach(function (p) { out[p.name] = p.value; });
      }
    });
    return out;
  }

  function setProp(element, name, value) {
    var bo = element.businessObject;
    var ext = bo.extensionElements;
    if (!ext) { ext = moddle.create("bpmn:ExtensionElements", { values: [] }); ext.$parent = bo; }
    if (!ext.values) { ext.values = []; }
    var props = ext.values.filter(function (v) { return v.$type === "spiffworkflow:Properties"; })[0];
    if (!props) {
      props = moddle.create("spiffworkflow:Properties", { properties: [] });
      props.$parent = ext;
      ext.values.push(props);
    }
    if (!props.properties) { props.properties = []; }
    var p = props.properties.filter(function (x) { return x.name === name; })[0];
    if (value === "" || value === null || value === undefined) {
      if (p) { props.properties.splice(props.properties.indexOf(p), 1); }
    } else if (p) {
      p.value = value;
    } else {
      p = moddle.create("spiffworkflow:Property", { name: name, value: value });
      p.$parent = props;
      props.properties.push(p);
    }
    modeling.updateProperties(element, { extensionElements: ext });
  }

  // -- what an element is --------------------------------------------------------------------------------------
  function is(element, type) { return element && element.businessObject && element.businessObject.$instanceOf(type); }
  function eventDef(element, type) {
    var defs = (element.businessObject.eventDefinitions) || [];
    return defs.filter(function (e) { return e.$type === type; })[0];
  }
  function isHuman(element) {
    var t = element.businessObject.$type;
    return t === "bpmn:UserTask" || t === "bpmn:Task" || t === "bpmn:ManualTask";
  }
  function timerKind(def) {
    return ["timeDuration", "timeDate", "timeCycle"].filter(function (k) { return def[k]; })[0] || "timeDuration";
  }

  function show(id, on) { $(id).hidden = !on; }

  function fill(element) {
    current = element;
    var none = !element || element.type === "label";
    $("prop-element").textContent = none ? "" : element.businessObject.$type + " " + element.id;
    var human = !none && isHuman(element);
    var lane = !none && is(element, "bpmn:Lane");
    var timer = !none && eventDef(element, "bpmn:TimerEventDefinition");
    var message = !none && (eventDef(element, "bpmn:MessageEventDefinition") ||
                            is(element, "bpmn:ReceiveTask") || is(element, "bpmn:SendTask"));
    var flow = !none && is(element, "bpmn:SequenceFlow");
    var script = !none && is(element, "bpmn:ScriptTask");
    show("prop-name", !none && !lane);
    show("prop-role", lane);
    show("prop-task", human);
    show("prop-timer", !!timer);
    show("prop-condition", flow);
    show("prop-message", !!message);
    show("prop-script", script);
    if (none) { return; }
    var bo = element.businessObject;
    $("f-name").value = bo.name || "";
    $("f-role").value = lane ? (bo.name || "") : "";
    if (human) {
      var p = propsOf(bo);
      $("f-form").value = p.form || "";
      $("f-due").value = p.due || "";
      $("f-status").value = p.status || "";
      $("f-title-en").value = p.title_en || "";
      if (p.form) { pickForm(p.form); }
    }
    if (timer) {
      var kind = timerKind(timer);
      $("f-timer-kind").value = kind;
      $("f-timer").value = timer[kind] ? (timer[kind].body || "") : "";
    }
    if (script) { $("f-script").value = bo.script || ""; }
    if (flow) { $("f-condition").value = bo.conditionExpression ? (bo.conditionExpression.body || "") : ""; }
    if (message) {
      var msg = messageOf(element);
      $("f-message").value = msg ? (msg.name || "") : "";
      renderCorrelation();
    }
  }

  function onChange(id, apply) {
    $(id).addEventListener("change", function () { if (current) { apply(current, $(id).value.trim()); } });
  }
  onChange("f-name", function (el, v) { modeling.updateProperties(el, { name: v }); });
  onChange("f-role", function (el, v) { modeling.updateProperties(el, { name: v }); });
  onChange("f-form", function (el, v) { setProp(el, "form", v); if (v) { pickForm(v); } });
  onChange("f-due", function (el, v) { setProp(el, "due", v); });
  onChange("f-status", function (el, v) { setProp(el, "status", v); });
  onChange("f-title-en", function (el, v) { setProp(el, "title_en", v); });
  function setTimer(el) {
    var def = eventDef(el, "bpmn:TimerEventDefinition");
    var kind = $("f-timer-kind").value;
    var text = $("f-timer").value.trim();
    var changes = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
    changes[kind] = text ? moddle.create("bpmn:FormalExpression", { body: text }) : undefined;
    modeling.updateModdleProperties(el, def, changes);
  }
  onChange("f-timer", setTimer);
  onChange("f-timer-kind", setTimer);
  onChange("f-script", function (el, v) {
    modeling.updateProperties(el, { script: v || undefined, scriptFormat: el.businessObject.scriptFormat || "python" });
  });
  onChange("f-condition", function (el, v) {
    modeling.updateProperties(el, { conditionExpression: v ? moddle.create("bpmn:FormalExpression", { body: v }) : undefined });
  });
  onChange("f-message", function (el, v) {
    var def = eventDef(el, "bpmn:MessageEventDefinition") || el.businessObject;
    if (def.messageRef) { modeling.updateModdleProperties(el, def.messageRef, { name: v }); return; }
    if (!v) { return; }
    var defs = modeler.getDefinitions();
    var msg = moddle.create("bpmn:Message", { id: "Message_" + v.replace(/[^A-Za-z0-9_]/g, "_"), name: v });
    msg.$parent = defs;
    defs.rootElements.push(msg);
    modeling.updateModdleProperties(el, def, { messageRef: msg });
  });

  // -- message correlation (bpmn:correlationProperty / correlationKey, as SpiffWorkflow's parser reads them) ------
  // A correlation property (definitions) has one retrieval expression per message, evaluated on the message
  // payload; a correlation key (in the collaboration) lists properties by id. The property's id is its name in
  // the correlations the engine compares.
  var corr = $("correlation").dataset;
  var PROP_ID = /^[A-Za-z_][A-Za-z0-9_]*$/;
  function messageOf(element) {
    var def = eventDef(element, "bpmn:MessageEventDefinition");
    return (def ? def.messageRef : element.businessObject.messageRef) || null;
  }
  function roots(type) {
    return (modeler.getDefinitions().rootElements || []).filter(function (e) { return e.$type === type; });
  }
  function collaboration() { return roots("bpmn:Collaboration")[0] || null; }
  function allKeys() { var c = collaboration(); return c ? (c.correlationKeys || []) : []; }
  function keysOf(cp) {
    return allKeys().filter(function (k) { return (k.correlationPropertyRef || []).indexOf(cp) >= 0; });
  }
  function names(text) {
    var out = [];
    text.split(/[,，\s]+/).forEach(function (n) { if (n && out.indexOf(n) < 0) { out.push(n); } });
    return out;
  }
  function corrSay(text, kind) { $("corr-status").textContent = text || ""; $("corr-status").className = kind || ""; }
  function update(target, changes) { modeling.updateModdleProperties(current, target, changes); }

  function setKeys(cp, wanted) {
    var c = collaboration();
    if (!c) { return; }
    allKeys().slice().forEach(function (k) {
      var refs = k.correlationPropertyRef || [];
      var want = wanted.indexOf(k.name) >= 0, has = refs.indexOf(cp) >= 0;
      if (want && !has) { update(k, { correlationPropertyRef: refs.concat([cp]) }); }
      if (!want && has) { update(k, { correlationPropertyRef: refs.filter(function (r) { return r !== cp; }) }); }
    });
    wanted.forEach(function (n) {
      if (allKeys().some(function (k) { return k.name === n; })) { return; }
      var id = "CorrelationKey_" + n.replace(/[^A-Za-z0-9_]/g, "_"), i = 1;
      while (moddle.ids && moddle.ids.assigned(id + (i > 1 ? "_" + i : ""))) { i += 1; }
      id += i > 1 ? "_" + i : "";
      var key = moddle.create("bpmn:CorrelationKey", { id: id, name: n, correlationPropertyRef: [cp] });
      key.$parent = c;
      if (moddle.ids) { moddle.ids.claim(id, key); }
      update(c, { correlationKeys: allKeys().concat([key]) });
    });
    var left = allKeys().filter(function (k) { return (k.correlationPropertyRef || []).length > 0; });
    if (left.length !== allKeys().length) { update(c, { correlationKeys: left }); }
  }

  function setExpression(cp, msg, text) {
    var rexes = cp.correlationPropertyRetrievalExpression || [];
    var rex = rexes.filter(function (r) { return r.messageRef === msg; })[0];
    var path = moddle.create("bpmn:FormalExpression", { body: text });
    if (rex) { path.$parent = rex; update(rex, { messagePath: path }); return; }
    rex = moddle.create("bpmn:CorrelationPropertyRetrievalExpression", { messageRef: msg, messagePath: path });
    rex.$parent = cp; path.$parent = rex;
    update(cp, { correlationPropertyRetrievalExpression: rexes.concat([rex]) });
  }

  function removeCorrelation(cp, msg) {
    var rest = (cp.correlationPropertyRetrievalExpression || []).filter(function (r) { return r.messageRef !== msg; });
    if (rest.length) { update(cp, { correlationPropertyRetrievalExpression: rest }); return; }
    setKeys(cp, []);  // the property is no longer used: out of every key, then out of the file
    var defs = modeler.getDefinitions();
    update(defs, { rootElements: defs.rootElements.filter(function (e) { return e !== cp; }) });
    if (moddle.ids) { moddle.ids.unclaim(cp.id); }
  }

  function addCorrelation() {
    var msg = current && messageOf(current);
    if (!msg) { corrSay(corr.msgNeedName, "error"); return; }
    var pid = $("corr-new-prop").value.trim(), expr = $("corr-new-expr").value.trim();
    if (!PROP_ID.test(pid) || !expr) { corrSay(corr.msgNeedProp, "error"); return; }
    var cp = roots("bpmn:CorrelationProperty").filter(function (p) { return p.id === pid; })[0];
    if (!cp) {
      if (registry.get(pid) || (moddle.ids && moddle.ids.assigned(pid))) { corrSay(corr.msgNeedProp + " " + pid, "error"); return; }
      var defs = modeler.getDefinitions();
      cp = moddle.create("bpmn:CorrelationProperty", { id: pid, name: pid, correlationPropertyRetrievalExpression: [] });
      cp.$parent = defs;
      if (moddle.ids) { moddle.ids.claim(pid, cp); }
      update(defs, { rootElements: defs.rootElements.concat([cp]) });
    }
    setExpression(cp, msg, expr);
    var keys = names($("corr-new-keys").value);
    if (keys.length) { setKeys(cp, keysOf(cp).map(function (k) { return k.name; }).concat(keys)); }
    ["corr-new-prop", "corr-new-expr", "corr-new-keys"].forEach(function (id) { $(id).value = ""; });
    corrSay("", "");
    renderCorrelation();
    $("corr-new-prop").focus();
  }
  $("corr-add").addEventListener("click", addCorrelation);

  function corrInput(id, label, value, apply) {
    var wrap = document.createElement("label");
    wrap.appendChild(document.createTextNode(label + " "));
    var input = document.createElement("input");
    input.id = id; input.value = value; input.spellcheck = false;
    input.addEventListener("change", function () { apply(input.value.trim()); });
    wrap.appendChild(input);
    return wrap;
  }

  function renderCorrelation() {
    var focused = document.activeElement && document.activeElement.id;
    var list = $("corr-rows");
    list.textContent = "";
    $("corr-props").textContent = "";
    roots("bpmn:CorrelationProperty").forEach(function (cp) {
      var o = document.createElement("option"); o.value = cp.id; $("corr-props").appendChild(o);
    });
    $("corr-keys").textContent = "";
    allKeys().forEach(function (k) {
      var o = document.createElement("option"); o.value = k.name || ""; $("corr-keys").appendChild(o);
    });
    var msg = current && messageOf(current);
    $("corr-add").disabled = !msg;
    $("corr-new-keys").disabled = !collaboration();
    corrSay(!msg ? corr.msgNeedName : (collaboration() ? "" : corr.msgNoKeys), "");
    if (!msg) { return; }
    roots("bpmn:CorrelationProperty").forEach(function (cp) {
      (cp.correlationPropertyRetrievalExpression || []).forEach(function (rex) {
        if (rex.messageRef !== msg) { return; }
        var li = document.createElement("li");
        li.dataset.property = cp.id;
        var head = document.createElement("code");
        head.textContent = cp.id;
        li.appendChild(head);
        li.appendChild(corrInput("corr-expr-" + cp.id, corr.msgExpr + " (" + cp.id + ")",
          rex.messagePath ? (rex.messagePath.body || "") : "",
          function (v) { if (v) { setExpression(cp, msg, v); } else { corrSay(corr.msgNeedProp, "error"); } }));
        var keys = corrInput("corr-keys-" + cp.id, corr.msgKeys + " (" + cp.id + ")",
          keysOf(cp).map(function (k) { return k.name; }).join(", "),
          function (v) { setKeys(cp, names(v)); });
        keys.querySelector("input").disabled = !collaboration();
        li.appendChild(keys);
        var rm = document.createElement("button");
        rm.type = "button"; rm.className = "corr-remove"; rm.textContent = "✕";
        rm.setAttribute("aria-label", corr.msgRemove + " " + cp.id);
        rm.addEventListener("click", function () { removeCorrelation(cp, msg); renderCorrelation(); $("corr-new-prop").focus(); });
        li.appendChild(rm);
        list.appendChild(li);
      });
    });
    if (focused && $(focused) && focused.indexOf("corr-") === 0) { $(focused).focus(); }
  }

  modeler.on("selection.changed", function (e) { fill(e.newSelection[0] || null); });
  modeler.on("element.changed", function (e) { if (current && e.element === current) { fill(current); } });

  // -- forms ---------------------------------------------------------------------------------------------------
  var formSelect = $("form-select");
  function formNames() {
    var names = Object.keys(forms);
    (d.forms || "").split(" ").forEach(function (n) { if (n && names.indexOf(n) < 0) { names.push(n); } });
    return names.sort();
  }
  function listForms(selected) {
    formSelect.textContent = "";
    formNames().forEach(function (n) {
      var o = document.createElement("option");
      o.value = n; o.textContent = n + (forms[n] ? "" : " *");
      formSelect.appendChild(o);
    });
    if (selected) { formSelect.value = selected; }
    showForm();
  }
  var fieldEditor = window.TierflowFormEditor ? window.TierflowFormEditor($("field-editor"), function (schema) {
    $("form-json").value = JSON.stringify(schema, null, 2);  // fields edited: the JSON follows
    $("form-json-status").textContent = "";
  }) : null;
  function showForm() {
    var n = formSelect.value;
    $("form-json").value = n && forms[n] ? JSON.stringify(forms[n], null, 2) : "";
    $("form-json-status").textContent = "";
    if (fieldEditor) { fieldEditor.load(n ? forms[n] || null : null); }
  }
  $("form-json").addEventListener("input", function () {  // JSON edited: the fields follow once it parses
    var n = formSelect.value, parsed;
    if (!n) { return; }
    try { parsed = JSON.parse($("form-json").value); } catch (err) { parsed = undefined; }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      $("form-json-status").textContent = d.msgJsonWait;
      return;
    }
    $("form-json-status").textContent = "";
    forms[n] = parsed;
    if (fieldEditor) { fieldEditor.load(parsed); }
  });
  function pickForm(name) {
    if (formNames().indexOf(name) < 0) { forms[name] = { type: "object", properties: {}, required: [] }; }
    listForms(name);
  }
  formSelect.addEventListener("change", showForm);
  $("form-apply").addEventListener("click", function () {
    var n = formSelect.value;
    var text = $("form-json").value.trim();
    if (!n || !text) { return; }
    try { forms[n] = JSON.parse(text); say(n + " ✓", "ok"); listForms(n); }
    catch (err) { say(d.msgJson + " " + err.message, "error"); }
  });

  // -- problems on the diagram ---------------------------------------------------------------------------------
  function clearProblems() {
    marked.forEach(function (id) { if (registry.get(id)) { canvas.removeMarker(id, "has-problem"); } });
    marked = [];
    overlays.remove({ type: "problem" });
    $("problems").textContent = "";
  }
  function showProblems(errors) {
    clearProblems();
    errors.forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = (e.element ? e.element + ": " : "") + e.message;
      if (e.element) { li.dataset.element = e.element; }
      $("problems").appendChild(li);
      if (e.element && registry.get(e.element)) {
        canvas.addMarker(e.element, "has-problem");
        marked.push(e.element);
        var badge = document.createElement("span");
        badge.className = "problem-badge";
        badge.title = e.message;
        badge.textContent = "!";
        overlays.add(e.element, "problem", { position: { top: -8, right: 8 }, html: badge });
        li.addEventListener("click", function () { selection.select(registry.get(e.element)); });
      }
    });
  }

  // -- server calls --------------------------------------------------------------------------------------------
  function payload() {
    return modeler.saveXML({ format: true }).then(function (r) {
      return { bpmn: r.xml, forms: forms, message: $("deploy-message").value.trim() || null };
    });
  }
  function post(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": d.csrf, "Accept": "application/json" },
      body: JSON.stringify(data)
    }).then(function (r) { return r.json().then(function (j) { return { status: r.status, json: j }; }); });
  }
  function failed(r) { say(d.msgFailed + " " + (r.json && r.json.message ? r.json.message : r.status), "error"); }

  $("save-draft").addEventListener("click", function () {
    payload().then(function (p) { return post(d.draftUrl, p); }).then(function (r) {
      if (r.status === 200) { say(d.msgSaved, "ok"); $("origin").textContent = "draft"; } else { failed(r); }
    });
  });
  $("validate").addEventListener("click", function () {
    payload().then(function (p) { return post(d.validateUrl, p); }).then(function (r) {
      if (r.status !== 200) { failed(r); return; }
      showProblems(r.json.errors || []);
      (r.json.warnings || []).forEach(function (w) {
        var li = document.createElement("li");
        li.className = "warning";
        li.textContent = (w.element ? w.element + ": " : "") + w.message;
        $("problems").appendChild(li);
      });
      if (r.json.ok) { say(d.msgValid, "ok"); } else { say(d.msgProblems + " " + r.json.errors.length, "error"); }
    });
  });
  $("deploy").addEventListener("click", function () {
    payload().then(function (p) { return post(d.deployUrl, p); }).then(function (r) {
      if (r.status === 201) {
        clearProblems();
        say(d.msgDeployed + " " + r.json.version, "ok");
        $("origin").textContent = "v" + r.json.version;
      } else if (r.status === 422 && Array.isArray(r.json.errors)) {
        showProblems(r.json.errors);
        say(d.msgProblems + " " + r.json.errors.length, "error");
      } else { failed(r); }
    });
  });

  // -- open ----------------------------------------------------------------------------------------------------
  fetch(d.sourceUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (src) {
      forms = src.forms || {};
      $("origin").textContent = src.origin === "version" ? "v" + src.latest : src.origin;
      listForms(Object.keys(forms)[0]);
      return modeler.importXML(src.bpmn);
    })
    .then(function () { canvas.zoom("fit-viewport"); root.classList.add("ready"); })
    .catch(function (err) { say(d.msgFailed + " " + err.message, "error"); });
}());

/* The decision table editor (admin): dmn-js Modeler from our static files; validate and deploy through the
   server, which checks the table (hit policy, complete rules, sandboxed cells) before it becomes a new version. */
(function () {
  "use strict";
  var root = document.getElementById("dmn-editor");
  if (!root || typeof DmnJS === "undefined") { return; }
  var d = root.dataset;
  var $ = function (id) { return document.getElementById(id); };
  // Chinese labels (translate_zh.js), given to each view: dmn-js replaces `common.additionalModules` by the view's
  var zh = { additionalModules: [window.tierflowTranslateModule || {}] };
  var modeler = new DmnJS({ container: "#dmn-canvas", drd: zh, decisionTable: zh, literalExpression: zh });
  function say(text, kind) { $("status").textContent = text; $("status").className = kind || ""; }
  function showProblems(errors) {
    $("problems").textContent = "";
    errors.forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = (e.element ? e.element + ": " : "") + e.message;
      if (e.element) { li.dataset.element = e.element; }
      $("problems").appendChild(li);
    });
  }
  function post(url) {
    return modeler.saveXML({ format: true }).then(function (r) {
      return fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": d.csrf, "Accept": "application/json" },
        body: JSON.stringify({ dmn: r.xml, message: $("dmn-message").value.trim() || null })
      });
    }).then(function (r) { return r.json().then(function (j) { return { status: r.status, json: j }; }); });
  }
  $("dmn-validate").addEventListener("click", function () {
    post(d.validateUrl).then(function (r) {
      if (r.status !== 200) { say(d.msgFailed + " " + (r.json.message || r.status), "error"); return; }
      showProblems(r.json.errors || []);
      say(r.json.ok ? d.msgValid : d.msgProblems + " " + r.json.errors.length, r.json.ok ? "ok" : "error");
    });
  });
  $("dmn-deploy").addEventListener("click", function () {
    post(d.deployUrl).then(function (r) {
      if (r.status === 200 || r.status === 201) { showProblems([]); say(d.msgDeployed + " " + r.json.version, "ok"); }
      else if (Array.isArray(r.json.errors)) { showProblems(r.json.errors); say(d.msgProblems + " " + r.json.errors.length, "error"); }
      else { say(d.msgFailed + " " + (r.json.message || r.status), "error"); }
    });
  });
  fetch(d.sourceUrl, { credentials: "same-origin" })
    .then(function (r) { return r.text(); })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      var table = modeler.getViews().filter(function (v) { return v.type === "decisionTable"; })[0];
      return table ? modeler.open(table) : null;
    })
    .then(function () { root.classList.add("ready"); })
    .catch(function (err) { say(d.msgFailed + " " + err.message, "error"); });
}());
