// kessai admin console: the 決済情報 dialog. The server renders it open
// (<dialog open>), so it works without this script; with it the dialog
// becomes modal and Escape closes it like the 閉じる link, which goes back
// to the order page (where the side box shows the state afresh, ADMIN-03).
(function () {
  "use strict";
  var dlg = document.getElementById("payment-dialog");
  if (!dlg || typeof dlg.showModal !== "function") { return; }
  var close = document.getElementById("dialog-close");
  dlg.close();
  dlg.showModal();
  dlg.addEventListener("cancel", function (ev) {
    ev.preventDefault();
    if (close) { window.location.href = close.href; }
  });
  // While a gateway call runs the dialog says so (ADMIN-03's loading
  // indicator): console.js has asked for confirmation by then.
  dlg.addEventListener("submit", function (ev) {
    if (!ev.defaultPrevented) { dlg.classList.add("busy"); }
  });
})();
