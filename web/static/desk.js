// The issuing desk's live queue. The page works without this script (forms
// and the refresh link); with it, the queue follows the issuance feed: on
// every event (a candidate ready, a call, a step at any desk) it fetches the
// queue's section again and swaps it in. After a drop it reconnects with a
// growing delay and resumes with since = the last seq seen, so that no
// change is missed.
(function () {
  'use strict';

  var state = document.getElementById('live-state');
  if (!state || !window.WebSocket || !window.fetch) {
    return;
  }
  var announce = document.getElementById('announce');
  var last = null; // the seq of the last event seen
  var delay = 1000; // the next reconnection's delay, ms
  var fetching = false;
  var again = false;

  // show puts the connection's state in its live region, once per change:
  // retries while the network is down do not repeat "reconnecting".
  function show(name) {
    if (document.body.dataset.live === name) {
      return;
    }
    state.hidden = false;
    state.textContent = state.dataset[name] || '';
    state.className = 'live ' + name;
    document.body.dataset.live = name;
  }

  // refresh fetches the queue's section and puts it in place of the one
  // shown, keeping the focus on the same control when it is still there.
  // Events that arrive meanwhile ask for one more fetch, not one each.
  function refresh() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    var q = new URLSearchParams(location.search);
    q.delete('done');
    q.set('part', 'queue');
    fetch('/desk?' + q.toString(), { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (res) {
        if (!res.ok || !res.headers.get('Content-Type').startsWith('text/html')) {
          throw new Error('queue: ' + res.status);
        }
        return res.text();
      })
      .then(function (html) {
        var tpl = document.createElement('template');
        tpl.innerHTML = html.trim();
        var next = tpl.content.querySelector('#queue');
        var cur = document.getElementById('queue');
        // An unchanged queue stays as it is: a click on a button being
        // replaced would be lost.
        if (!next || !cur || next.innerHTML === cur.innerHTML) {
          return;
        }
        var active = document.activeElement;
        var focus = active && cur.contains(active) && active.form ? active.form.getAttribute('action') : null;
        cur.replaceWith(next);
        if (focus) {
          var f = next.querySelector('form[action="' + focus + '"] button');
          if (f) {
            f.focus();
          }
        }
        document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
      })
      .catch(function () {
        // The next event, or the next connection, fetches again.
      })
      .then(function () {
        fetching = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  function say(text) {
    if (!announce) {
      return;
    }
    var p = document.createElement('p');
    p.textContent = text;
    announce.replaceChildren(p);
  }

  function connect() {
    if (document.body.dataset.live !== 'reconnecting') {
      show('connecting');
    }
    var url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/desk/live';
    if (last !== null) {
      url += '?since=' + last;
    }
    var ws = new WebSocket(url);
    ws.onmessage = function (e) {
      var m;
      try {
        m = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      if (m.type === 'hello') {
        show('connected');
        delay = 1000;
        // A since the feed does not know (above its seq) is ignored by
        // the server: start again from its seq.
        if (last === null || m.seq < last) {
          last = m.seq;
        }
        // Whatever changed between the page's rendering and this
        // connection, or while the page was cut off.
        refresh();
        return;
      }
      if (typeof m.seq === 'number') {
        if (last !== null && m.seq <= last) {
          return;
        }
        last = m.seq;
      }
      if (m.type === 'ready' && state.dataset.ready) {
        say(state.dataset.ready.replace('%s', m.ticket).replace('%s', m.name));
      }
      refresh();
    };
    ws.onclose = function () {
      show('reconnecting');
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  connect();
})();
