// hall.js keeps the hall screen (大厅屏) current: it polls the board's data
// every 2 s (backing off while examd is out of reach, with a discreet
// notice), redraws the lists with textContent only, and says each new
// result and each new call once in the page's live region (role=status).
// Each new call is also read aloud in Mandarin (speechSynthesis, zh-CN)
// after a chime (a Web Audio oscillator), as many times as the display's
// URL says (?repeat=, ?volume=, read by the server into #hall-sound).
// Browsers play sound only after a first touch: the "开启语音" button asks
// for it, unless the browser allows sound already (a kiosk Chromium started
// with --autoplay-policy=no-user-gesture-required). Without sound the board
// shows everything the same. The page is rendered with the same data, so it
// works before this runs; what it shows at load counts as said.
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

  // The voice. Calls are spoken one after another: chime, then the text
  // `repeat` times, then the next call.
  var button = document.getElementById('hall-sound');
  var volume = Number(button.getAttribute('data-volume'));
  var repeat = Number(button.getAttribute('data-repeat')) || 1;
  var synth = window.speechSynthesis;
  var Audio = window.AudioContext || window.webkitAudioContext;
  var audio = null;
  var voiceOn = false;
  var queue = [];
  var speaking = false;

  function turnOn() {
    voiceOn = true;
    button.hidden = true;
    if (audio && audio.state !== 'running') {
      audio.resume().catch(function () {});
    }
  }
  if (synth && window.SpeechSynthesisUtterance) {
    try {
      audio = Audio ? new Audio() : null;
    } catch (e) {
      audio = null;
    }
    if (audio && audio.state === 'running') {
      turnOn(); // the browser allows sound without a touch
    } else {
      button.hidden = false;
      button.addEventListener('click', turnOn);
    }
  }

  // chime plays two short tones (ding-dong) at the display's volume.
  function chime() {
    if (!audio || audio.state !== 'running' || volume <= 0) {
      return;
    }
    var t = audio.currentTime;
    [[784, 0], [523, 0.3]].forEach(function (n) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = n[0];
      gain.gain.setValueAtTime(0.0001, t + n[1]);
      gain.gain.exponentialRampToValueAtTime(0.4 * volume, t + n[1] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + n[1] + 0.5);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + n[1]);
      osc.stop(t + n[1] + 0.55);
    });
  }

  function chineseVoice() {
    var voices = synth.getVoices ? synth.getVoices() : [];
    for (var i = 0; i < voices.length; i++) {
      if (/^zh[-_]CN/i.test(voices[i].lang)) {
        return voices[i];
      }
    }
    return null;
  }

  function speakNext() {
    if (speaking || queue.length === 0) {
      return;
    }
    speaking = true;
    var text = queue.shift();
    chime();
    setTimeout(function () {
      var finished = false;
      function done() {
        if (!finished) {
          finished = true;
          speaking = false;
          setTimeout(speakNext, 400);
        }
      }
      // A voice that never reports its end must not silence the board.
      var guard = setTimeout(done, 12000 * repeat);
      var voice = chineseVoice();
      for (var i = 0; i < repeat; i++) {
        var u = new SpeechSynthesisUtterance(text);
        u.lang = 'zh-CN';
        u.volume = volume;
        u.rate = 0.9;
        if (voice) {
          u.voice = voice;
        }
        if (i === repeat - 1) {
          u.onend = u.onerror = function () {
            clearTimeout(guard);
            done();
          };
        }
        synth.speak(u);
      }
    }, audio && audio.state === 'running' ? 800 : 0);
  }

  function speak(text) {
    if (!voiceOn || volume <= 0) {
      return; // shown, not spoken
    }
    queue.push(text);
    speakNext();
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

    // Now calling: the calls the desk has not served yet, large; the
    // history strip: the latest calls, served or not.
    var calling = b.calls.filter(function (c) { return !c.served; });
    var list = document.createDocumentFragment();
    calling.forEach(function (c) {
      var li = el('li');
      li.setAttribute('data-key', c.key);
      li.appendChild(el('span', 'hall-ticket', c.ticket));
      li.appendChild(document.createTextNode(' '));
      li.appendChild(el('span', 'hall-text', c.text));
      list.appendChild(li);
    });
    document.getElementById('calling').replaceChildren(list);
    showEmpty('calling-empty', calling.length === 0);
    var history = document.createDocumentFragment();
    b.calls.forEach(function (c) {
      var li = el('li', c.served ? 'served' : '');
      li.setAttribute('data-key', c.key);
      li.appendChild(el('span', 'hall-ticket', c.ticket));
      li.appendChild(document.createTextNode(' '));
      li.appendChild(el('span', 'hall-desk', c.desk));
      history.appendChild(li);
    });
    document.getElementById('calls').replaceChildren(history);

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
        speak(c.say);
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
