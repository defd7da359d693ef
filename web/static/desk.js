// The desk's steps ask for confirmation before they are sent: a step's form
// (data-confirm) opens the page's <dialog>, which names the ticket, the
// candidate and the step; 确认办理 sends the form, 取消 or Escape returns
// to it. A modal dialog keeps the keyboard inside it and gives the focus
// back to the step's button when it closes. Without the script (or without
// <dialog>) the form is sent as it is.
(function () {
  'use strict';

  var dialog = document.getElementById('confirm');
  if (!dialog || typeof dialog.showModal !== 'function') {
    return;
  }
  var text = document.getElementById('confirm-text');
  var yes = document.getElementById('confirm-yes');
  var no = document.getElementById('confirm-no');
  var pending = null; // the form waiting for the answer
  var submitter = null;

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.matches('form[data-confirm]') || form.dataset.confirmed === 'yes') {
      return;
    }
    e.preventDefault();
    pending = form;
    submitter = e.submitter || form.querySelector('button[type="submit"]');
    text.textContent = form.dataset.confirm;
    document.body.dataset.confirming = 'yes';
    dialog.showModal();
    yes.focus();
  });

  yes.addEventListener('click', function () {
    var form = pending;
    var by = submitter;
    pending = null;
    dialog.close();
    if (form && form.isConnected) {
      form.dataset.confirmed = 'yes';
      if (form.requestSubmit) {
        form.requestSubmit(by && by.form === form ? by : undefined);
      } else {
        form.submit();
      }
    }
  });
  no.addEventListener('click', function () {
    dialog.close();
  });
  dialog.addEventListener('close', function () {
    // The close event comes as a task after the closing: when the dialog
    // was opened again meanwhile (Escape, then Enter at once), this event
    // is the earlier closing's, and the new confirmation stands.
    if (dialog.open) {
      return;
    }
    delete document.body.dataset.confirming;
    if (pending && submitter && submitter.isConnected) {
      submitter.focus();
    }
    pending = null;
    document.dispatchEvent(new Event('desk:resume'));
  });
})();

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
    // Not under an open confirmation: its form must stay the one sent.
    if (document.body.dataset.confirming === 'yes') {
      again = true;
      return;
    }
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
        // A confirmation opened while this fetch was under way: its form
        // must stay the one sent, so the swap waits for desk:resume.
        if (document.body.dataset.confirming === 'yes') {
          again = true;
          return;
        }
        var tpl = document.createElement('template');
        tpl.innerHTML = html.trim();
        var next = tpl.content.querySelector('#queue');
        var cur = document.getElementById('queue');
        if (next && cur) {
          keepInput(cur, next);
        }
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

  // keepInput carries what the staff member has ticked, chosen or typed in
  // the steps' forms of the queue shown over to the queue fetched, form by
  // form (a row's form is known by its action and step).
  function keepInput(cur, next) {
    // A row showing a refusal (this page answered a form) stays as it is
    // while its candidate is at the same step: the refusal is still true.
    cur.querySelectorAll('tbody tr').forEach(function (tr) {
      if (!tr.querySelector('.refusal')) {
        return;
      }
      var other = next.querySelector('tr[id="' + tr.id + '"]');
      if (other && other.className === tr.className) {
        other.replaceWith(tr.cloneNode(true));
      }
    });
    cur.querySelectorAll('form.step-form').forEach(function (f) {
      var step = f.querySelector('input[name="step"]');
      var sel = 'form.step-form[action="' + f.getAttribute('action') + '"]';
      var g = next.querySelector(sel);
      var gstep = g && g.querySelector('input[name="step"]');
      if (!g || !step || !gstep || gstep.value !== step.value) {
        return;
      }
      f.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
        var other = g.querySelector('input[type="checkbox"][name="' + box.name + '"][value="' + box.value + '"]');
        if (other) {
          other.checked = box.checked;
        }
      });
      f.querySelectorAll('select, input[type="text"], input:not([type])').forEach(function (el) {
        var other = g.querySelector('[name="' + el.name + '"]');
        if (other) {
          other.value = el.value;
        }
      });
    });
  }

  document.addEventListener('desk:resume', function () {
    if (again) {
      again = false;
      refresh();
    }
  });

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
