/* One confirmation before every irreversible action. A form or a submit button with data-confirm="…" (and
   optionally data-confirm-ok="…", the confirming button's label) asks first in the page's <dialog id="confirm-dialog">
   (base.html): a modal dialog, so focus stays inside it; Esc or 取消 cancels, and focus goes back to the button
   pressed. A plain button (type="button", e.g. the editors' Deploy) with data-confirm is asked about the same way
   before its own click handler runs. Without JavaScript the forms post as before. No inline script (CSP). */
(function () {
  "use strict";

  var dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var text = document.getElementById("confirm-text");
  var ok = document.getElementById("confirm-ok");
  var cancel = document.getElementById("confirm-cancel");
  var okLabel = ok.textContent;
  var pending = null; // function to run when confirmed
  var opener = null;

  function ask(question, okText, source, onConfirm) {
    text.textContent = question;
    ok.textContent = okText || okLabel;
    pending = onConfirm;
    opener = source;
    dialog.returnValue = "";
    dialog.showModal();
    cancel.focus(); // the safe choice first: Enter on an irreversible step does nothing by accident
  }

  ok.addEventListener("click", function () {
    var run = pending;
    pending = null;
    dialog.close("ok");
    if (run) run();
  });
  cancel.addEventListener("click", function () {
    dialog.close("cancel");
  });
  dialog.addEventListener("close", function () {
    if (dialog.returnValue !== "ok") pending = null;
    if (opener && document.contains(opener) && dialog.returnValue !== "ok") opener.focus();
  });

  // forms: the submitter's question wins over the form's
  window.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || null;
    var source = submitter && submitter.hasAttribute("data-confirm") ? submitter : form;
    var question = source.getAttribute && source.getAttribute("data-confirm");
    if (!question) return;
    if (form.__confirmed) {
      form.__confirmed = false;
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    ask(question, source.getAttribute("data-confirm-ok"), submitter || form, function () {
      form.__confirmed = true;
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit(submitter || undefined);
      } else {
        form.submit();
      }
    });
  }, true);

  // plain buttons that act through JavaScript (deploying a diagram or a decision table)
  window.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest('button[type="button"][data-confirm]');
    if (!button) return;
    if (button.__confirmed) {
      button.__confirmed = false;
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    ask(button.getAttribute("data-confirm"), button.getAttribute("data-confirm-ok"), button, function () {
      button.__confirmed = true;
      button.click();
    });
  }, true);
})();
