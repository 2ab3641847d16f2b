// kessai admin console: shared behaviour. Loaded on every page with
// defer; the pages work without it (the confirmations are the only loss).
(function () {
  "use strict";
  // A form (or a button) with data-confirm asks before it is submitted:
  // every gateway operation does (ADMIN-03).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var btn = ev.submitter;
    var msg = (btn && btn.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
      return;
    }
    // One click, one request: the button is disabled until the answer.
    if (btn && !form.hasAttribute("data-no-disable")) {
      setTimeout(function () { btn.disabled = true; }, 0);
    }
  });
  // Errors at the top of a refused form take the focus, for screen readers.
  var errs = document.getElementById("form-errors");
  if (errs) { errs.focus(); }
})();
