// e-SCOTT Smart simulator: submits the hand-back form to the merchant's
// RedirectUrl as soon as the page is ready (kept out of the page so that a
// strict Content-Security-Policy applies). Without JavaScript the page shows
// a button.
(function () {
  'use strict';
  function go() {
    var f = document.getElementById('sim-autosubmit');
    if (f && !f.getAttribute('data-sent')) {
      f.setAttribute('data-sent', '1');
      f.submit();
    }
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', go);
  } else {
    go();
  }
})();
