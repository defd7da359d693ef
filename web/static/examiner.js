// The examiner's live screen. The page comes with a tile per car and the
// seq of the venue feed before today (data-since). This script replays the
// day's events after that seq and then follows the feed live over a
// websocket; after a drop it reconnects by itself with since = the last seq
// it applied, and skips any seq it has applied, so that each event shows
// exactly once. Everything shown is set as text, never as markup.
'use strict';
(function () {
  const screen = document.getElementById('screen');
  if (!screen) return;
  const T = JSON.parse(document.getElementById('screen-text').textContent);
  // t is the catalogue text of key, its %s and %d filled with args in order.
  const t = (key, ...args) => {
    let i = 0;
    return (T[key] || key).replace(/%[sd]/g, () => String(args[i++]));
  };
  const venue = screen.dataset.venue;
  const canSign = screen.dataset.canSign === 'true';
  const conn = document.getElementById('conn');
  const announcer = document.getElementById('announce');
  const tilesList = document.getElementById('tiles');
  const signList = document.getElementById('to-sign');
  const noneToSign = document.getElementById('none-to-sign');

  let last = Number(screen.dataset.since) || 0; // the last seq applied
  // The server's clock minus the tablet's: the day's replayed events are
  // dated on the server's clock.
  const offset = (Date.parse(screen.dataset.now) || Date.now()) - Date.now();
  const silentAfter = 30000; // ED-SCREEN: a car silent this long during an exam is marked
  const hhmmss = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  let liveFrom = Infinity; // events above this seq happen while we watch: announce them

  // tiles: device id → {el, car, a (the attempt on it, or null)}.
  const tiles = new Map();
  for (const el of tilesList.querySelectorAll('li[data-device]')) {
    tiles.set(el.dataset.device, { el, a: null, seen: 0 });
  }
  const attempts = new Map(); // attempt id → its state, shown on its car's tile
  const latest = new Map(); // booking id → its latest attempt
  const pending = new Map(); // attempt id → its row in the sign-off list

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // carTile returns the tile of the device that reported ev, making one for
  // a car that joined after the page loaded.
  function carTile(ev) {
    const id = String(ev.device.id);
    let tile = tiles.get(id);
    if (!tile && ev.device) {
      // A car that joined after the page loaded.
      const li = el('li', 'tile idle');
      li.dataset.device = id;
      const h = el('h3');
      h.append(el('span', 'car', ev.device.name), ' ', el('span', 'plate', ev.device.plate));
      li.append(h, el('div', 'tile-body'));
      document.getElementById('no-cars')?.remove();
      tilesList.append(li);
      tile = { el: li, a: null, seen: 0 };
      tiles.set(id, tile);
    }
    return tile || null;
  }

  function subjectText(n) { return t('subject.' + n); }
  function itemText(code) { return code ? (T['item.' + code] || code) : ''; }
  function finished(a) { return a && (a.status === 'passed' || a.status === 'failed'); }

  function drawTile(tile) {
    const a = tile.a;
    const body = tile.el.querySelector('.tile-body');
    body.replaceChildren();
    tile.el.className = 'tile ' + (a ? 'status-' + a.status : 'idle');
    if (!a) {
      body.append(el('p', 'muted', t('examiner.js.idle')));
      return;
    }
    const who = el('p', 'who');
    who.append(el('span', 'name', a.name));
    if (a.lane === 'priority') who.append(' ', el('span', 'tag lane-tag', t('examiner.js.lane')));
    body.append(who);
    const what = subjectText(a.subject) + ' · ' + a.cls + ' · ' + t('examiner.js.attempt', a.no);
    body.append(el('p', 'what', what));
    // BK-CAP: which of the candidate's bookings of the subject this is.
    if (a.count) {
      body.append(countLine(a));
    } else {
      askCount(a);
    }
    if (!finished(a)) {
      body.append(el('p', 'item', a.item ? t('examiner.js.item', itemText(a.item)) : t('examiner.js.no_item')));
      if (a.instruction) body.append(el('p', 'instruction', t('examiner.js.instruction', a.instruction)));
    }
    const score = el('p', 'score' + (a.score < a.passMark ? ' below' : ''));
    score.append(el('strong', 'points', String(a.score)), ' ', el('span', 'mark', t('examiner.js.pass_mark', a.passMark)));
    body.append(score);
    if (finished(a)) {
      body.append(el('p', 'result result-' + a.status, t('examiner.js.' + a.status)));
    }
    if (a.retakeOpen) body.append(el('p', 'note', t('examiner.js.retake_open')));
    if (a.deductions.length === 0) {
      body.append(el('p', 'muted', t('examiner.js.no_deductions')));
    } else {
      const ol = el('ol', 'deductions');
      ol.setAttribute('aria-label', t('examiner.js.deductions'));
      for (const d of a.deductions) {
        const li = el('li');
        li.append(el('span', 'minus', t('examiner.js.points', d.points)), ' ', el('span', 'rule', d.rule));
        ol.append(li);
      }
      body.append(ol);
    }
    const signs = [];
    if (a.signedExaminer) signs.push(t('examiner.js.signed_examiner'));
    if (a.signedCandidate) signs.push(t('examiner.js.signed_candidate'));
    if (signs.length) body.append(el('p', 'signed', signs.join(' · ')));
  }

  function countLine(a) {
    return el('p', 'count', a.cap ? t('examiner.js.booking_count', a.count, a.cap) : t('examiner.js.booking_no', a.count));
  }

  // askCount fetches the booking count of the attempt a tile shows, once
  // (the score sheet's count, /examiner/attempts/:id/count); a replay that
  // moves on to a newer attempt before it is asked skips it.
  function askCount(a) {
    if (a.countAsked) return;
    a.countAsked = true;
    setTimeout(async () => {
      if (a.tile.a !== a) {
        a.countAsked = false;
        return;
      }
      try {
        const r = await fetch('/examiner/attempts/' + a.id + '/count', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
        if (!r.ok) throw new Error('count: ' + r.status);
        const c = await r.json();
        a.count = c.count;
        a.cap = c.cap;
        // Added in place: the rest of the tile stays as it is.
        const what = a.tile.a === a && a.tile.el.querySelector('.tile-body .what');
        if (what && !a.tile.el.querySelector('.tile-body .count')) what.after(countLine(a));
      } catch (e) {
        a.countAsked = false; // asked again at the next event
      }
    }, 200);
  }

  // drawSeen shows when each car was last heard from, and marks a car
  // silent for silentAfter while an exam runs on it (ED-SCREEN: whether
  // the device is connected). A timer keeps it current.
  function drawSeen() {
    const now = Date.now();
    for (const tile of tiles.values()) {
      let p = tile.el.querySelector('.seen');
      if (!tile.seen) {
        if (p) p.remove();
        continue;
      }
      if (!p) {
        p = el('p', 'seen');
        p.setAttribute('role', 'status');
        tile.el.querySelector('h3').after(p);
      }
      const silent = tile.a && tile.a.status === 'in_progress' && now - tile.seen >= silentAfter;
      const text = silent ? t('examiner.js.silent', Math.floor((now - tile.seen) / 1000))
        : t('examiner.js.seen', hhmmss.format(new Date(tile.seen + offset)));
      if (p.textContent !== text) p.textContent = text;
      p.classList.toggle('silent', silent);
      tile.el.classList.toggle('silent', silent);
    }
  }
  setInterval(drawSeen, 1000);

  function markRoster() {
    const busy = new Set();
    for (const tile of tiles.values()) {
      if (tile.a && tile.a.status === 'in_progress') busy.add(String(tile.a.booking));
    }
    for (const li of document.querySelectorAll('#roster li[data-booking]')) {
      const on = busy.has(li.dataset.booking);
      li.classList.toggle('busy', on);
      li.querySelector('.state').textContent = on ? t('examiner.js.in_progress') : '';
    }
  }

  let rosterTimer = 0;
  function refreshRoster() {
    clearTimeout(rosterTimer);
    rosterTimer = setTimeout(async () => {
      try {
        const r = await fetch('/examiner/roster?venue=' + encodeURIComponent(venue), { credentials: 'same-origin' });
        if (r.redirected && new URL(r.url).pathname === '/login') {
          signedOut();
          return;
        }
        if (r.ok && (r.headers.get('Content-Type') || '').startsWith('text/html')) {
          // The server's own escaped fragment.
          document.getElementById('roster').innerHTML = await r.text();
          markRoster();
        }
      } catch (e) { /* the next event refreshes it */ }
    }, 300);
  }

  // addToSign lists a finished attempt to sign: a link to its score sheet,
  // where the examiner reads the deductions and signs (ED-SIGN).
  function addToSign(a) {
    if (!canSign || a.signedExaminer || pending.has(a.id)) return;
    const li = el('li');
    li.dataset.attempt = a.id;
    const label = el('span', 'what');
    label.id = 'sign-what-' + a.id;
    label.textContent = a.car + ' · ' + a.name + ' · ' + subjectText(a.subject) + ' · ' +
      t('examiner.js.' + a.status) + ' ' + a.score;
    const link = el('a', 'button primary', t('examiner.js.sign'));
    link.href = '/examiner/attempts/' + a.id;
    link.setAttribute('aria-describedby', label.id);
    li.append(label, ' ', link);
    signList.append(li);
    pending.set(a.id, li);
    noneToSign.hidden = true;
  }

  function signed(attemptID) {
    const li = pending.get(attemptID);
    if (li) {
      li.remove();
      pending.delete(attemptID);
    }
    noneToSign.hidden = pending.size > 0;
  }

  // say announces a result in the live region, which this page shows as
  // a banner over the screen (examiner.css): it never moves the tiles, and
  // it leaves after a while so that it hides nothing for long.
  function say(text) {
    const p = el('p', '', text);
    announcer.append(p);
    while (announcer.children.length > 3) announcer.firstElementChild.remove();
    setTimeout(() => p.remove(), 15000);
  }

  // relabel keeps a waiting sign-off row's result up to date (corrections).
  function relabel(a) {
    const li = pending.get(a.id);
    if (li) {
      li.querySelector('.what').textContent = a.car + ' · ' + a.name + ' · ' + subjectText(a.subject) + ' · ' +
        t('examiner.js.' + a.status) + ' ' + a.score;
    }
  }

  // apply shows one feed event; announce says that it happened just now.
  function apply(ev, announce) {
    if (!ev.attempt_id) {
      // About a booking: a retake opened, a no-show, a declined retake, a
      // released combined half.
      const a = latest.get(ev.booking_id);
      if (ev.type === 'retake_open' && a) {
        a.retakeOpen = true;
        drawTile(a.tile);
      }
      refreshRoster();
      return;
    }
    if (ev.device) {
      // Heard from the car: now for a live event, its time for a replayed one.
      const tile = carTile(ev);
      const at = announce ? Date.now() : (Date.parse(ev.at) - offset || 0);
      if (tile && at > tile.seen) tile.seen = at;
    }
    let a = attempts.get(ev.attempt_id);
    if (!a) {
      if (!ev.device) return; // an attempt of another day
      const tile = carTile(ev);
      a = {
        id: ev.attempt_id, no: ev.attempt_no, booking: ev.booking_id, subject: ev.subject, cls: ev.licence_class,
        name: ev.candidate.name, lane: ev.lane, status: 'in_progress', score: ev.score,
        passMark: ev.pass_mark, item: '', instruction: '', deductions: [],
        car: tile.el.querySelector('.car').textContent, tile,
      };
      attempts.set(a.id, a);
      latest.set(a.booking, a);
      // The car shows its newest attempt; an earlier one keeps its
      // sign-off row.
      tile.a = a;
      refreshRoster();
    }
    const wasFinished = finished(a);
    switch (ev.type) {
      case 'item_started': a.item = ev.item; a.instruction = ''; break;
      case 'instruction': a.instruction = ev.text; break;
      case 'deduction': a.deductions.push({ rule: ev.rule_text || ev.rule, points: ev.points }); break;
      case 'signature':
        if (ev.text === 'examiner') {
          a.signedExaminer = true;
          signed(a.id);
        } else {
          a.signedCandidate = true;
        }
        break;
      case 'correction':
        // A correction is a new result, to be signed by both again (ED-SIGN).
        a.signedExaminer = false;
        a.signedCandidate = false;
        break;
    }
    if (ev.type !== 'signature') {
      a.score = ev.score;
      if (ev.pass_mark) a.passMark = ev.pass_mark;
      if (ev.status) a.status = ev.status;
    }
    if (ev.type === 'correction' && wasFinished) addToSign(a);
    if (a.tile.a === a) drawTile(a.tile);
    relabel(a);
    if (!wasFinished && finished(a)) {
      addToSign(a);
      refreshRoster();
      if (announce) say(t('examiner.js.announce_result', a.car, a.name, subjectText(a.subject), t('examiner.js.' + a.status), a.score));
    }
    markRoster();
    drawSeen();
  }

  function setConn(state) {
    conn.dataset.state = state;
    conn.textContent = t('examiner.js.conn.' + state);
  }

  // signedOut sends the browser to the login page when the session has
  // ended: the websocket cannot tell, a page request can.
  async function signedOut() {
    try {
      const r = await fetch('/examiner/roster?venue=' + encodeURIComponent(venue), { credentials: 'same-origin' });
      if (r.redirected && new URL(r.url).pathname === '/login') {
        location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
        return true;
      }
    } catch (e) { /* the network is down: keep trying */ }
    return false;
  }

  let backoff = 500;
  let failures = 0;
  let ws = null;
  // A network that goes away may leave the socket looking open: the
  // browser's offline event closes it, and it reconnects as after a drop.
  window.addEventListener('offline', () => { if (ws) ws.close(); });
  function connect() {
    setConn('connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(proto + '//' + location.host + '/examiner/live?venue_id=' +
      encodeURIComponent(venue) + '&since=' + last);
    ws.onmessage = (m) => {
      const ev = JSON.parse(m.data);
      if (ev.type === 'hello') {
        if (ev.seq < last) {
          // The feed no longer has what this page showed (restored from a
          // backup): start again from the page.
          location.reload();
          return;
        }
        if (liveFrom === Infinity) liveFrom = ev.seq;
        backoff = 500;
        failures = 0;
        setConn('open');
        return;
      }
      if (typeof ev.seq !== 'number' || ev.seq <= last) return; // shown already
      last = ev.seq;
      screen.dataset.seq = String(last);
      apply(ev, ev.seq > liveFrom);
    };
    ws.onclose = async () => {
      setConn('closed');
      failures++;
      if (failures % 3 === 0 && await signedOut()) return;
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }
  connect();
})();
