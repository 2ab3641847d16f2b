// e-SCOTT Smart simulator: the token script demo page. Written like a
// merchant page: the card inputs have no name, the callback is a global
// function named by the callBackFunc attribute.
(function () {
  'use strict';
  function show(v) {
    document.getElementById('demo-result').textContent = v;
  }
  window.simDemoSetToken = function (token, card, result) {
    show(JSON.stringify({ token: token, card: card, result: result }, null, 2));
  };
  document.addEventListener('DOMContentLoaded', function () {
    var form = document.getElementById('sim-token-demo');
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!window.SpsvApi) {
        show('SpsvApi is not defined: the token script did not load.');
        return;
      }
      show('…');
      window.SpsvApi.spsvCreateToken(
        document.getElementById('demo-cardno').value,
        document.getElementById('demo-yy').value,
        document.getElementById('demo-mm').value,
        document.getElementById('demo-sec').value,
        '', '', '', '', '');
    });
  });
})();
