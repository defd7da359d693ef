// The print button of a printable page: window.print() (the page prints
// from the browser's menu too).
(function () {
  'use strict';
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () {
      window.print();
    });
  });
})();
