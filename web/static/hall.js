// hall.js keeps the hall screen (大厅屏) current: it polls the board's data
// every 2 s (backing off while examd is out of reach, with a discreet
// notice), redraws the lists with textContent only, and says each new
// result and each new call once in the page's live region (role=status).
// The page is rendered with the same data, so it works before this runs.
(function () {
  'use strict';

  var every = 2000;
  var longest = 30000;
  var url = location.pathname.replace(/\/+$/, '') + '/board';
  var clock = document.getElementById('hall-clock');
  var offline = document.getElementById('hall-offline');
  var gone = document.getElementById('hall-gone');
  var live = document.getElementById('announce');
  if (!clock || !live) {
    return;
  }

  // The server's clock, not the TV's: offset is server minus local.
  var offset = 0;
  function setNow(iso) {
    var t = Date.parse(iso);
    if (!isNaN(t)) {
      offset = t - Date.now();
    }
  }
  setNow(clock.getAttribute('data-now'));
  var hhmm = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  function tick() {
    clock.textContent = hhmm.format(new Date(Date.now() + offset));
  }
  tick();
  setInterval(tick, 1000);

  // What was on the page when it loaded has been seen: only what comes
  // later is announced.
  var announced = new Set();
  document.querySelectorAll('[data-key]').forEach(function (e) {
    announced.add(e.getAttribute('data-key'));
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) {
      e.className = cls;
    }
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  function setText(id, text) {
    var e = document.getElementById(id);
    if (e && e.textContent !== text) {
      e.textContent = text;
    }
  }

  function showEmpty(id, empty) {
    var e = document.getElementById(id);
    if (e) {
      e.hidden = !empty;
    }
  }

  function rows(tableId, items, cells) {
    var body = document.querySelector('#' + tableId + ' tbody');
    var fresh = document.createDocumentFragment();
    items.forEach(function (it) {
      var tr = el('tr');
      if (it.key) {
        tr.setAttribute('data-key', it.key);
      }
      cells(it).forEach(function (c) {
        tr.appendChild(el('td', c[1], c[0]));
      });
      fresh.appendChild(tr);
    });
    body.replaceChildren(fresh);
    showEmpty(tableId + '-empty', items.length === 0);
  }

  function say(texts) {
    texts.forEach(function (t) {
      live.appendChild(el('p', '', t));
    });
    while (live.childElementCount > 5) {
      live.removeChild(live.firstElementChild);
    }
  }

  function draw(b) {
    setNow(b.now);
    tick();
    setText('hall-venue', b.venue);
    setText('hall-date', b.date);

    var calls = document.getElementById('calls');
    var list = document.createDocumentFragment();
    b.calls.forEach(function (c) {
      var li = el('li');
      li.setAttribute('data-key', c.key);
      li.appendChild(el('span', 'hall-ticket', c.ticket));
      li.appendChild(document.createTextNode(' '));
      li.appendChild(el('span', 'hall-text', c.text));
      list.appendChild(li);
    });
    calls.replaceChildren(list);
    showEmpty('calls-empty', b.calls.length === 0);

    rows('exams', b.exams, function (e) {
      return [[e.name, 'hall-name'], [e.subject], [e.car], [e.item]];
    });
    rows('results', b.results, function (r) {
      return [[r.name, 'hall-name'], [r.subject], [r.verdict, r.passed ? 'hall-pass' : 'hall-fail'], [r.score]];
    });

    // Oldest first, so that the announcements keep the order things happened.
    var news = [];
    var seen = new Set();
    b.results.slice().reverse().forEach(function (r) {
      seen.add(r.key);
      if (!announced.has(r.key)) {
        news.push(r.say);
      }
    });
    b.calls.slice().reverse().forEach(function (c) {
      seen.add(c.key);
      if (!announced.has(c.key)) {
        news.push(c.text);
      }
    });
    announced = seen;
    say(news);
  }

  var wait = every;
  function poll() {
    fetch(url, { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) {
        if (res.status === 404) {
          // Revoked: the screen stops asking.
          offline.hidden = true;
          gone.hidden = false;
          document.body.classList.add('hall-stopped');
          return null;
        }
        if (!res.ok) {
          throw new Error('board: HTTP ' + res.status);
        }
        return res.json().then(function (b) {
          draw(b);
          offline.hidden = true;
          wait = every;
          setTimeout(poll, wait);
        });
      })
      .catch(function () {
        offline.hidden = false;
        wait = Math.min(wait * 2, longest);
        setTimeout(poll, wait);
      });
  }
  setTimeout(poll, every);
})();
