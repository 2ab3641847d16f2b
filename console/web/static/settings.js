// kessai admin console: the settings screens. Loaded with defer; every
// page works without it (all fields stay visible and are submitted, the
// fee table offers blank rows, the URL can be copied by hand).
(function () {
  "use strict";
  var form = document.getElementById("settings-form");
  if (!form) { return; }

  // ---- Fields that depend on others (SET-03, SET-06, SET-09, SET-16) ----
  // data-show-when="a b=c": shown when any token holds; data-hide-when:
  // hidden when any holds. "name" holds when that checkbox is ticked,
  // "name=value" when that radio (or select) has the value. Hidden fields
  // are still submitted: hiding only declutters.
  function holds(token) {
    var eq = token.indexOf("=");
    var name = eq < 0 ? token : token.slice(0, eq);
    var els = form.elements.namedItem(name);
    if (!els) { return false; }
    if (els.length === undefined || els.tagName === "SELECT") { els = [els]; }
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (eq < 0) {
        if (el.checked) { return true; }
      } else if (el.tagName === "SELECT" ? el.value === token.slice(eq + 1) : (el.checked && el.value === token.slice(eq + 1))) {
        return true;
      }
    }
    return false;
  }
  function any(attr) {
    var tokens = attr.split(/\s+/).filter(Boolean);
    for (var i = 0; i < tokens.length; i++) {
      if (holds(tokens[i])) { return true; }
    }
    return false;
  }
  function toggle() {
    var els = form.querySelectorAll("[data-show-when], [data-hide-when]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var show = true;
      if (el.hasAttribute("data-show-when")) { show = any(el.getAttribute("data-show-when")); }
      if (show && el.hasAttribute("data-hide-when")) { show = !any(el.getAttribute("data-hide-when")); }
      // A block holding an error message stays visible: the operator
      // must see what to fix.
      if (el.querySelector(".field-error")) { show = true; }
      el.hidden = !show;
    }
  }
  form.addEventListener("change", toggle);
  toggle();

  // ---- Fee table (SET-16) ----
  var tbody = document.getElementById("fee-rows");
  if (tbody) {
    var proto = null;
    var cells = function (tr) { return tr.querySelectorAll("input"); };
    var blank = function (tr) {
      var ins = cells(tr);
      for (var i = 0; i < ins.length; i++) {
        if (ins[i].value.trim() !== "") { return false; }
      }
      return true;
    };
    var renumber = function () {
      var rows = tbody.querySelectorAll("tr");
      for (var i = 0; i < rows.length; i++) {
        rows[i].querySelector(".settings-fee-no").textContent = String(i + 1);
        var ins = cells(rows[i]);
        for (var j = 0; j < ins.length; j++) {
          var label = ins[j].getAttribute("aria-label") || "";
          ins[j].setAttribute("aria-label", label.replace(/\s*\d+$/, "") + " " + (i + 1));
        }
      }
    };
    var newRow = function () {
      var tr = proto.cloneNode(true);
      var ins = cells(tr);
      for (var i = 0; i < ins.length; i++) {
        ins[i].value = "";
        ins[i].removeAttribute("aria-invalid");
      }
      var errs = tr.querySelectorAll(".field-error");
      for (var k = 0; k < errs.length; k++) { errs[k].remove(); }
      var del = tr.querySelector("[data-fee-delete]");
      if (del) { del.hidden = false; }
      return tr;
    };
    var rows = tbody.querySelectorAll("tr");
    if (rows.length) { proto = rows[rows.length - 1].cloneNode(true); }
    // The blank rows are for browsers without JavaScript; here 「行を挿入」
    // adds rows, so drop them (keeping one when the table is empty).
    for (var i = rows.length - 1; i >= 0; i--) {
      if (blank(rows[i]) && tbody.querySelectorAll("tr").length > 1 && !rows[i].querySelector(".field-error")) {
        rows[i].remove();
      }
    }
    var buttons = form.querySelectorAll("[data-fee-insert], [data-fee-delete]");
    for (var b = 0; b < buttons.length; b++) { buttons[b].hidden = false; }
    renumber();

    tbody.addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-fee-delete]");
      if (!btn) { return; }
      var tr = btn.closest("tr");
      var next = tr.nextElementSibling || tr.previousElementSibling;
      tr.remove();
      renumber();
      var focus = next ? next.querySelector("input") : document.getElementById("fee-insert");
      if (focus) { focus.focus(); }
    });
    var insert = document.getElementById("fee-insert");
    if (insert && proto) {
      insert.addEventListener("click", function () {
        // A new row starts where the last one ends: its "to" + 1, or 0
        // for the first row (the plugin's behaviour).
        var last = tbody.querySelector("tr:last-child");
        var from = "0";
        if (last) {
          var to = cells(last)[1].value.trim();
          from = /^\d+$/.test(to) ? String(parseInt(to, 10) + 1) : "";
        }
        var tr = newRow();
        cells(tr)[0].value = from;
        tbody.appendChild(tr);
        renumber();
        cells(tr)[from === "" ? 0 : 1].focus();
      });
    }
  }

  // ---- Copy the notification URL (NOTIFY-01) ----
  var copies = document.querySelectorAll("[data-copy]");
  for (var c = 0; c < copies.length; c++) {
    (function (btn) {
      var input = document.getElementById(btn.getAttribute("data-copy"));
      if (!input) { return; }
      btn.hidden = false;
      var label = btn.textContent;
      btn.addEventListener("click", function () {
        var done = function () {
          btn.textContent = btn.getAttribute("data-copied");
          setTimeout(function () { btn.textContent = label; }, 2000);
        };
        input.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(done, function () {});
        } else if (document.execCommand && document.execCommand("copy")) {
          done();
        }
      });
    })(copies[c]);
  }
})();
