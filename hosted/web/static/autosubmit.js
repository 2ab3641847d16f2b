/*
 * kessai hosted pages: sends the browser on to the payment gateway (3-D
 * Secure) by submitting the page's form as soon as it is ready. It lives
 * in its own file so that the page needs no inline script under its
 * Content-Security-Policy; without JavaScript the page shows a button.
 */
(function (document) {
  'use strict';
  function go() {
    var f = document.getElementById('kessai-autosubmit');
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
})(document);
