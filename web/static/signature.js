// The candidate's signature on the examiner's tablet (ED-SIGN): drawn with
// a finger, a pen or the mouse on the canvas (pointer events), sent with the
// form as a PNG data URL. The form is not sent without a drawing.
'use strict';
(function () {
  const pad = document.getElementById('signature-pad');
  if (!pad) return;
  const form = document.getElementById('candidate-form');
  const field = document.getElementById('signature-png');
  const state = document.getElementById('pad-state');
  const ctx = pad.getContext('2d');
  let drawn = false;
  let last = null;

  function clear() {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, pad.width, pad.height);
    drawn = false;
    field.value = '';
    state.textContent = state.dataset.empty;
    state.classList.remove('drawn');
  }

  // at is the pointer's place in the canvas's own pixels (the canvas may
  // be shown narrower than it is).
  function at(e) {
    const r = pad.getBoundingClientRect();
    return { x: (e.clientX - r.left) * pad.width / r.width, y: (e.clientY - r.top) * pad.height / r.height };
  }

  pad.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    if (pad.setPointerCapture) {
      try { pad.setPointerCapture(e.pointerId); } catch (err) { /* a synthetic pointer */ }
    }
    last = at(e);
    ctx.beginPath();
    ctx.arc(last.x, last.y, 1.5, 0, 2 * Math.PI);
    ctx.fillStyle = '#111';
    ctx.fill();
  });
  pad.addEventListener('pointermove', (e) => {
    if (!last) return;
    e.preventDefault();
    const p = at(e);
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 3;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    last = p;
    if (!drawn) {
      drawn = true;
      state.textContent = state.dataset.drawn;
      state.classList.add('drawn');
    }
  });
  const end = () => { last = null; };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  pad.addEventListener('pointerleave', end);

  document.getElementById('pad-clear').addEventListener('click', clear);
  form.addEventListener('submit', (e) => {
    if (!drawn) {
      e.preventDefault();
      state.textContent = state.dataset.empty;
      pad.focus();
      return;
    }
    field.value = pad.toDataURL('image/png');
  });
  clear();
})();
