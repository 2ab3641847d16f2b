/*
 * kessai hosted pages: the card form of the checkout and of the "my cards"
 * page.
 *
 * The card inputs have no name attribute, so the browser never posts them
 * to kessai. On submit this script checks them, hands them to the payment
 * gateway's token script (SpsvApi.spsvCreateToken, loaded from the
 * gateway's origin), and posts only the one-time token and the first six
 * digits of the card (for the installment rules). It also keeps the
 * installment choices in step with the card number as it is typed, from
 * the rules the server rendered into data-paytypes.
 *
 * For a collection (convenience store, Pay-easy, e-money) it checks that
 * the billing fields the panel asks for are filled in.
 *
 * Everything the page says comes from data-msgs and data-required,
 * rendered by the server in the page's language.
 */
(function (window, document) {
  'use strict';

  function byId(id) { return document.getElementById(id); }
  function digitsOf(s) { return String(s || '').replace(/[\s-]/g, ''); }
  function isDigits(s) { return /^[0-9]+$/.test(s); }

  function parseJSON(s) {
    if (!s) { return null; }
    try { return JSON.parse(s); } catch (e) { return null; }
  }

  // The brand group of a card number, exactly as the server decides it
  // (escott.BrandGroupOf, spec §7.4): 4, 5 or 35 → VISA/Mastercard/JCB;
  // 36 → Diners; 37 → AMEX; anything else → other (lump sum only).
  function brandGroup(pan) {
    var c0 = pan.charAt(0), c1 = pan.charAt(1);
    if (c0 === '4' || c0 === '5') { return 'vmj'; }
    if (c0 === '3') {
      if (c1 === '5') { return 'vmj'; }
      if (c1 === '6') { return 'diners'; }
      if (c1 === '7') { return 'amex'; }
    }
    return 'other';
  }

  // ---- errors ----

  var errorBox = byId('form-errors');

  function showErrors(list) {
    if (!errorBox) { return; }
    while (errorBox.firstChild) { errorBox.removeChild(errorBox.firstChild); }
    if (!list.length) { errorBox.hidden = true; return; }
    var ul = document.createElement('ul');
    for (var i = 0; i < list.length; i++) {
      var li = document.createElement('li');
      li.textContent = list[i];
      ul.appendChild(li);
    }
    errorBox.appendChild(ul);
    errorBox.hidden = false;
    errorBox.focus();
  }

  function markInvalid(el, bad) {
    if (!el) { return; }
    if (bad) { el.setAttribute('aria-invalid', 'true'); } else { el.removeAttribute('aria-invalid'); }
  }

  // ---- payment method choice (more than one method offered) ----

  function setupMethods(form) {
    var radios = form.querySelectorAll('input[name="method"][type="radio"]');
    if (!radios.length) { return; }
    var button = byId('submit-button');
    function update() {
      for (var i = 0; i < radios.length; i++) {
        var panel = form.querySelector('[data-panel="' + radios[i].value + '"]');
        if (panel) { panel.hidden = !radios[i].checked; }
        if (radios[i].checked && button && radios[i].getAttribute('data-button')) {
          button.textContent = radios[i].getAttribute('data-button');
        }
      }
    }
    for (var i = 0; i < radios.length; i++) { radios[i].addEventListener('change', update); }
    update();
  }

  function chosenMethod(form) {
    var r = form.querySelector('input[name="method"]:checked') ||
      form.querySelector('input[name="method"][type="hidden"]');
    return r ? r.value : '';
  }

  // ---- the card panel ----

  function setupCard(panel) {
    var form = panel.closest('form');
    var mode = panel.getAttribute('data-card-form');
    var msgs = parseJSON(panel.getAttribute('data-msgs')) || {};
    var rules = parseJSON(panel.getAttribute('data-paytypes'));
    var initialPrefix = panel.getAttribute('data-initial-prefix') || '';
    var savedPrefix = panel.getAttribute('data-saved-prefix') || '';
    var needCsc = panel.getAttribute('data-csc') === '1';
    var needConsent = panel.getAttribute('data-consent') === '1';

    var number = byId('cc-number'), mm = byId('cc-exp-mm'), yy = byId('cc-exp-yy');
    var csc = byId('cc-csc'), name = byId('cc-name');
    var fields = byId('card-fields');
    var tokenField = byId('cc-token'), prefixField = byId('cc-prefix'), holderPost = byId('cc-holder-post');
    var payType = byId('pay-type');
    var consent = byId('consent');
    var button = byId('submit-button');
    var choices = panel.querySelectorAll('input[name="card_choice"]');
    var typed = false;
    var busy = false;

    function choice() {
      for (var i = 0; i < choices.length; i++) {
        if (choices[i].checked) { return choices[i].value; }
      }
      return choices.length ? '' : 'new';
    }

    // The prefix the installment list follows: the saved card's when
    // paying with it, else what is typed (or, before anything is typed,
    // the prefix of the card the page was re-shown for).
    function currentPrefix() {
      if (choice() === 'saved') { return savedPrefix; }
      if (typed && number) { return digitsOf(number.value); }
      return initialPrefix;
    }

    function updatePayTypes() {
      if (!payType || !rules || !rules.groups) { return; }
      var list = rules.groups[brandGroup(currentPrefix())] || rules.groups.other || [];
      var keep = payType.value;
      var found = false;
      for (var i = 0; i < list.length; i++) { if (list[i].v === keep) { found = true; } }
      if (!found) { keep = '01'; }
      while (payType.firstChild) { payType.removeChild(payType.firstChild); }
      for (var j = 0; j < list.length; j++) {
        var o = document.createElement('option');
        o.value = list[j].v;
        o.textContent = list[j].l;
        o.selected = list[j].v === keep;
        payType.appendChild(o);
      }
    }

    function updateChoice() {
      if (fields) { fields.hidden = choice() === 'saved'; }
      updatePayTypes();
    }

    if (number) {
      number.addEventListener('input', function () { typed = true; updatePayTypes(); });
    }
    for (var i = 0; i < choices.length; i++) { choices[i].addEventListener('change', updateChoice); }
    updateChoice();

    function setBusy(on) {
      busy = on;
      if (!button) { return; }
      if (on) {
        button.setAttribute('data-label', button.textContent);
        button.textContent = button.getAttribute('data-busy') || button.textContent;
        button.disabled = true;
        button.setAttribute('aria-busy', 'true');
      } else {
        button.textContent = button.getAttribute('data-label') || button.textContent;
        button.disabled = false;
        button.removeAttribute('aria-busy');
      }
    }

    // Checks of CARD-01 (+ the consent of CARD-10 and the choice of
    // CARD-06). Returns the messages, marking the fields.
    function validate(withCard) {
      var errs = [];
      if (choices.length && !choice()) { errs.push(msgs.js_choice); }
      if (withCard) {
        var pan = digitsOf(number.value);
        var badPan = !isDigits(pan) || pan.length < 13 || pan.length > 19;
        var m = mm.value.trim(), y = yy.value.trim();
        var badExp = !/^(0[1-9]|1[0-2])$/.test(m) || !/^[0-9]{2}$/.test(y);
        var badCsc = needCsc && csc && !/^[0-9]{3,4}$/.test(csc.value.trim());
        var holder = name.value.trim();
        var badName = !/^[A-Za-z ]+$/.test(holder) || holder.length > 45;
        markInvalid(number, badPan);
        markInvalid(mm, badExp);
        markInvalid(yy, badExp);
        markInvalid(csc, badCsc);
        markInvalid(name, badName);
        if (badPan || badExp || badCsc || badName) {
          errs.push(msgs.js_invalid);
          if (badPan) { errs.push(msgs.js_number); }
          if (badExp) { errs.push(msgs.js_expiry); }
          if (badCsc) { errs.push(msgs.js_csc); }
          if (badName) { errs.push(msgs.js_name); }
        }
      }
      if (needConsent && consent && !consent.checked) {
        errs.push(msgs.js_consent);
        markInvalid(consent, true);
      } else {
        markInvalid(consent, false);
      }
      return errs;
    }

    // The token script calls this global (callBackFunc of its tag) with
    // the token, or with "" and a result code on failure.
    window.kessaiTokenCallback = function (token, card, result) {
      if (!token) {
        var code = result && result.resultCode ? String(result.resultCode) : 'NG';
        var text = msgs.js_token_other;
        if (code === 'NG') { text = msgs.js_token_ng; }
        if (code === 'KI1') { text = msgs.js_token_config; }
        if (/K20|K82/.test(code)) { text = msgs.js_number; markInvalid(number, true); }
        if (/K21|K83/.test(code)) { text = msgs.js_expiry; markInvalid(mm, true); markInvalid(yy, true); }
        if (/K24|K40/.test(code)) { text = msgs.js_csc; markInvalid(csc, true); }
        setBusy(false);
        showErrors([text]);
        return;
      }
      var pan = digitsOf(number.value);
      tokenField.value = token;
      prefixField.value = pan.slice(0, 6);
      if (holderPost) { holderPost.value = name.value.trim().toUpperCase(); }
      // The gateway has the card now; nothing of it needs to stay in
      // the page (a back navigation must not show it again).
      number.value = '';
      if (csc) { csc.value = ''; }
      form.submit();
    };

    form.addEventListener('submit', function (ev) {
      if (chosenMethod(form) && panel.closest('[data-method]') &&
          chosenMethod(form) !== panel.closest('[data-method]').getAttribute('data-method')) {
        return; // another method was chosen: its own rules apply
      }
      ev.preventDefault();
      if (busy) { return; }
      var withCard = mode === 'token' && choice() !== 'saved';
      var errs = validate(withCard);
      if (errs.length) { showErrors(errs); return; }
      showErrors([]);
      if (!withCard) {
        if (tokenField) { tokenField.value = ''; }
        if (prefixField) { prefixField.value = ''; }
        setBusy(true);
        form.submit();
        return;
      }
      if (!window.SpsvApi || typeof window.SpsvApi.spsvCreateToken !== 'function') {
        showErrors([msgs.js_script]);
        return;
      }
      setBusy(true);
      var pan = digitsOf(number.value);
      var secCd = needCsc && csc ? csc.value.trim() : '';
      // Nine arguments (spec §7.2); the authentication-assist items are
      // not collected, as in the plugins.
      window.SpsvApi.spsvCreateToken(pan, yy.value.trim(), mm.value.trim(), secCd, '', '', '', '', '');
    });

    // A page restored from the back-forward cache must be usable again.
    window.addEventListener('pageshow', function (ev) { if (ev.persisted) { setBusy(false); } });
  }

  // ---- the collection panel (CVS-02) ----

  // The billing fields the panel asks for may not be left empty: the
  // browser says so before anything is sent, with the server's own
  // message (data-required). Every other rule (length, characters, the
  // phone's digits) is left to the server, so there is one set of rules.
  function setupCollection(panel) {
    var form = panel.closest('form');
    var section = panel.closest('[data-method]');
    var button = byId('submit-button');
    var inputs = panel.querySelectorAll('input[data-required]');
    var busy = false;
    var label = '';

    function setError(el, msg) {
      markInvalid(el, !!msg);
      var box = byId(el.id + '-error');
      if (box) { box.textContent = msg; box.hidden = !msg; }
    }

    form.addEventListener('submit', function (ev) {
      if (section && chosenMethod(form) !== section.getAttribute('data-method')) {
        return; // another method was chosen: its own rules apply
      }
      if (busy) { ev.preventDefault(); return; } // one registration per click
      var errs = [];
      for (var i = 0; i < inputs.length; i++) {
        var empty = inputs[i].value.replace(/[\s\u3000]/g, '') === '';
        var msg = empty ? inputs[i].getAttribute('data-required') : '';
        if (empty || inputs[i].getAttribute('aria-invalid') === 'true') { setError(inputs[i], msg); }
        if (msg) { errs.push(msg); }
      }
      if (errs.length) {
        ev.preventDefault();
        showErrors(errs);
        return;
      }
      busy = true;
      if (button) {
        label = button.textContent;
        button.textContent = button.getAttribute('data-busy') || label;
        button.setAttribute('aria-busy', 'true');
      }
    });
    // A page restored from the back-forward cache (the shopper came back
    // from the agent's page) must be usable again.
    window.addEventListener('pageshow', function (ev) {
      if (ev.persisted && busy) {
        busy = false;
        if (button) {
          button.textContent = label;
          button.removeAttribute('aria-busy');
        }
      }
    });
  }

  // ---- confirmations (delete the saved card) ----

  function setupConfirms() {
    var forms = document.querySelectorAll('form[data-confirm]');
    for (var i = 0; i < forms.length; i++) {
      forms[i].addEventListener('submit', function (ev) {
        if (!window.confirm(this.getAttribute('data-confirm'))) { ev.preventDefault(); }
      });
    }
  }

  function start() {
    var checkout = byId('checkout-form');
    if (checkout) { setupMethods(checkout); }
    var panels = document.querySelectorAll('[data-card-form]');
    for (var i = 0; i < panels.length; i++) { setupCard(panels[i]); }
    var collections = document.querySelectorAll('[data-collection-form]');
    for (var j = 0; j < collections.length; j++) { setupCollection(collections[j]); }
    setupConfirms();
    if (errorBox && !errorBox.hidden) { errorBox.focus(); }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})(window, document);
