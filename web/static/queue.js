// queue.js keeps the candidate's place in today's queue up to date on their
// home page: every 30 seconds, and at once when the page comes back into
// view (a phone woken from its sleep), it fetches the queue's section again
// (/candidate?part=queue, the same domain function as GET /api/v1/me/queue)
// and puts it in place; and at once when the candidate's own notes bring
// news of the day (notifications.js: "your turn is next", a ticket called).
// Polling besides: the estimate moves with every attempt of the venue
// (starts, finishes, withdrawals), which are not the candidate's notes, and
// a 30-second refresh follows them closely enough for a time given to the
// minute.
(function () {
  'use strict';
  var box = document.getElementById('queue-live');
  if (!box) {
    return;
  }
  var every = 30000;
  var timer = null;
  var busy = false;

  function refresh() {
    if (busy) {
      return;
    }
    busy = true;
    fetch('/candidate?part=queue', { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (res) {
        var type = res.headers.get('Content-Type') || '';
        // Redirected: signed out, the login page came back instead.
        if (!res.ok || res.redirected || type.indexOf('text/html') !== 0) {
          throw new Error('queue: ' + res.status);
        }
        return res.text();
      })
      .then(function (html) {
        // The live region stays; only what it says changes, so that a
        // screen reader speaks the new place.
        if (box.innerHTML.trim() !== html.trim()) {
          box.innerHTML = html;
        }
      })
      .catch(function () {
        // Offline or signed out: the last place shown stays; the next
        // round tries again.
      })
      .then(function () {
        busy = false;
        schedule();
      });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, every);
  }

  document.addEventListener('examd:notification', function (e) {
    var kind = e.detail && e.detail.kind;
    if (kind === 'turn.next' || kind === 'result.final' || kind === 'booking.cancelled') {
      refresh();
    }
  });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') {
      refresh();
    }
  });
  schedule();
}());
