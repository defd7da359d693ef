// notifications.js follows the candidate's notifications on every page of
// theirs: a websocket on /candidate/notifications/live from the seq the
// page was rendered at (body data-notify-seq). Each new note raises the
// unread count of the navigation; on the 通知 page it is also added to the
// top of the list (and to what 全部标为已读 marks). After a drop it reconnects with a growing delay and
// resumes from the last seq seen, each note shown once.
(function () {
  'use strict';
  var body = document.body;
  if (!body.dataset.notifySeq || !window.WebSocket) {
    return;
  }
  var last = Number(body.dataset.notifySeq);
  var delay = 1000;

  function bump() {
    var badge = document.getElementById('unread-count');
    if (!badge) {
      return;
    }
    var n = badge.querySelector('.n');
    n.textContent = String(Number(n.textContent || '0') + 1);
    badge.hidden = false;
  }

  function add(m) {
    var list = document.getElementById('notifications');
    if (!list || document.getElementById('note-' + m.id)) {
      return;
    }
    var en = document.documentElement.lang === 'en';
    var li = document.createElement('li');
    li.className = 'card note unread';
    li.id = 'note-' + m.id;
    var p = document.createElement('p');
    var tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = list.dataset.new;
    p.append(tag, ' ', en ? m.text_en : m.text_zh);
    var meta = document.createElement('p');
    meta.className = 'muted';
    var time = document.createElement('time');
    time.dateTime = m.at;
    var at = new Date(m.at);
    time.textContent = isNaN(at) ? m.at : at.toLocaleString(en ? 'en-GB' : 'zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: 'long', day: 'numeric', weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    meta.append(time);
    if (m.link && m.link.charAt(0) === '/') {
      var a = document.createElement('a');
      a.href = m.link;
      a.textContent = list.dataset.open;
      meta.append(' · ', a);
    }
    li.append(p, meta);
    list.prepend(li);
    var empty = document.getElementById('notifications-empty');
    if (empty) {
      empty.hidden = true;
    }
    // 全部标为已读 marks what the page shows, this note included.
    var form = document.getElementById('mark-all-form');
    if (form) {
      var ids = form.querySelector('input[name="ids"]');
      ids.value = ids.value ? ids.value + ',' + m.id : String(m.id);
      form.hidden = false;
    }
  }

  function connect() {
    var url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host +
      '/candidate/notifications/live?since=' + last;
    var ws = new WebSocket(url);
    ws.onmessage = function (e) {
      var m;
      try {
        m = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      if (m.type === 'hello') {
        delay = 1000;
        // A since the feed does not know (above its seq) is ignored by the
        // server: follow from its seq.
        if (m.seq < last) {
          last = m.seq;
        }
        body.dataset.notifyLive = 'connected';
        return;
      }
      if (typeof m.seq !== 'number' || m.seq <= last) {
        return;
      }
      last = m.seq;
      if (m.type === 'notification') {
        bump();
        add(m);
        // Other scripts of the page follow the candidate's notes too (the
        // exam-day queue refreshes on "your turn is next").
        document.dispatchEvent(new CustomEvent('examd:notification', { detail: m }));
      }
    };
    ws.onclose = function () {
      body.dataset.notifyLive = 'reconnecting';
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  connect();
})();
