/* The enterprise import page: the upload shows its progress (then "checking every row" while the server checks),
   and the commit asks for confirmation first (confirm.js). Without JavaScript both forms still work as plain posts. No inline
   scripts (CSP). */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target; // the commit's confirmation: data-confirm, asked by confirm.js
    if (form.id !== "import-form" || !window.XMLHttpRequest || !window.FormData) return;
    event.preventDefault();
    var box = document.getElementById("progress");
    var bar = document.getElementById("progress-bar");
    var label = document.getElementById("progress-label");
    var button = document.getElementById("check");
    box.hidden = false;
    button.disabled = true;
    bar.value = 0;
    label.textContent = label.getAttribute("data-uploading");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.upload.addEventListener("load", function () {
      label.textContent = label.getAttribute("data-checking");
      bar.removeAttribute("value"); // indeterminate while the server checks
    });
    xhr.addEventListener("load", function () {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var fresh = doc.querySelector("main");
      if (fresh) {
        document.querySelector("main").replaceWith(fresh);
        document.title = doc.title;
      } else {
        form.submit();
      }
    });
    xhr.addEventListener("error", function () {
      box.hidden = true;
      button.disabled = false;
      form.submit(); // fall back to a plain post
    });
    xhr.send(new FormData(form));
  });
})();
