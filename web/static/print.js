// A print button (button[data-print] hidden) prints the page; it is hidden
// until this script runs, since without script it could do nothing. A page
// with one loads this script in its "scripts" block. The page's
// print stylesheet (print.css and the page's own) lays the paper out.
'use strict';
(function () {
  for (const b of document.querySelectorAll('button[data-print]')) {
    b.hidden = false;
    b.addEventListener('click', () => window.print());
  }
})();
