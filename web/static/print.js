// A print button (button[data-print]) prints the page; it is hidden until
// this script runs, since without script it could do nothing. The page's
// print stylesheet (print.css and the page's own) lays the paper out.
'use strict';
(function () {
  for (const b of document.querySelectorAll('button[data-print]')) {
    b.hidden = false;
    b.addEventListener('click', () => window.print());
  }
})();
