package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"examd/internal/server/servertest"
)

// drawSignature draws a signature on the score sheet's canvas with
// synthetic pointer events of pointerType ("touch", "mouse", "pen"), as a
// finger or the mouse would.
func (tb *tab) drawSignature(pointerType string) {
	tb.t.Helper()
	eval[bool](tb, fmt.Sprintf(`(() => {
		const c = document.getElementById('signature-pad');
		c.scrollIntoView();
		const r = c.getBoundingClientRect();
		const at = (type, x, y) => c.dispatchEvent(new PointerEvent(type, {
			bubbles: true, cancelable: true, pointerId: 7, pointerType: %q, isPrimary: true,
			clientX: r.left + x * r.width, clientY: r.top + y * r.height, buttons: type === 'pointerup' ? 0 : 1,
		}));
		at('pointerdown', 0.1, 0.6);
		for (let i = 1; i <= 30; i++) at('pointermove', 0.1 + i * 0.025, 0.6 - 0.3 * Math.sin(i / 3));
		at('pointerup', 0.85, 0.5);
		return true;
	})()`, pointerType))
}

// TestBrowserDaySignedThroughPages: a small simulated day (three candidates
// through subjects 2, 3 and 4 on the devices' API) is signed through the
// pages only: for each finished attempt the examiner opens its score sheet
// from the live screen, signs after the confirmation, and the candidate
// draws their signature on the tablet (touch, mouse and pen in turn),
// confirms, and sees what they signed. Then every candidate is in the
// issuing desk's queue (IS-READY), which stays empty until then.
func TestBrowserDaySignedThroughPages(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	var cands []servertest.Candidate
	attempts := 0
	for i := 0; i < 3; i++ {
		c, b2, b3, b4 := h.Combined(t)
		h.Pass(t, b2, 2)
		h.Pass(t, b3, 3)
		h.Pass(t, b4, 4)
		cands = append(cands, c)
		attempts += 3
	}
	if q := h.Queue(t); len(q) != 0 {
		t.Fatalf("%d candidates in the desk queue before any signature", len(q))
	}
	examiner := examinerAt(a, t, h.Venue)

	tb := openTab(a, t, 1280, 900)
	tb.logIn(examiner, "staff-secret", "examiner")
	pointers := []string{"touch", "mouse", "pen"}
	for signed := 0; signed < attempts; signed++ {
		if signed > 0 {
			tb.open("/examiner", "examiner")
		}
		// The live screen lists what is still to sign, replayed from the feed.
		deadline := time.Now().Add(5 * time.Second)
		for eval[int](tb, `document.querySelectorAll('#to-sign li').length`) != attempts-signed {
			if time.Now().After(deadline) {
				t.Fatalf("after %d sheets signed the screen lists %d to sign, want %d", signed, eval[int](tb, `document.querySelectorAll('#to-sign li').length`), attempts-signed)
			}
			time.Sleep(50 * time.Millisecond)
		}
		tb.click("#to-sign a", `body[data-page="examiner_sheet"]`)
		if signed == 0 {
			tb.checkPage()
		}
		what := tb.text("#sheet-h")
		// The examiner: read, confirm, and the page says what was signed.
		tb.click("#sign-as-examiner", "#confirm-examiner")
		tb.waitText("#confirm-what", "合格", time.Second)
		tb.click("#confirm-examiner", "#signed-note")
		tb.waitText("#signed-note", "考试员已签字确认以下成绩", time.Second)
		// The candidate: read, draw, confirm.
		tb.waitText("#sign-candidate", "请考生本人阅读以上成绩", time.Second)
		if signed == 0 {
			tb.checkPage()
			// Not without a drawing: the page keeps the form.
			tb.click("#candidate-confirm", "#candidate-confirm:checked")
			tb.click("#sign-as-candidate", "#sign-candidate")
			if got := tb.text("#pad-state"); got != "尚未签名" {
				t.Errorf("the pad says %q after an empty submit", got)
			}
		}
		tb.drawSignature(pointers[signed%len(pointers)])
		tb.waitText("#pad-state", "已签名", time.Second)
		if signed != 0 {
			tb.click("#candidate-confirm", "#candidate-confirm:checked")
		}
		tb.click("#sign-as-candidate", `#signed-note img.drawn, #signatures img.drawn`)
		tb.waitText("#signed-note", "考生已签名确认以下成绩", time.Second)
		tb.waitText("#signed-note .what", "合格", time.Second)
		if n := eval[int](tb, `document.querySelectorAll('#signatures .signature').length`); n != 2 {
			t.Errorf("%s: the sheet shows %d signatures, want 2", what, n)
		}
		if !eval[bool](tb, `(() => { const i = document.querySelector('#signatures img.drawn'); return !!i && i.complete && i.naturalWidth === 600; })()`) {
			t.Errorf("%s: the drawn signature is not shown", what)
		}
	}

	var drawn int
	if err := a.DB.Get(&drawn, `SELECT count(*) FROM attempt_signatures WHERE signer = 'candidate' AND in_person AND signature_png IS NOT NULL`); err != nil || drawn != attempts {
		t.Errorf("%d drawn candidate signatures, want %d (%v)", drawn, attempts, err)
	}
	for _, c := range cands {
		if h.InQueue(t, c) == nil {
			t.Errorf("candidate %d is not in the desk queue after signing through the pages", c.ID)
		}
	}
	if q := h.Queue(t); len(q) != len(cands) {
		t.Errorf("the desk queue holds %d, want %d", len(q), len(cands))
	}
	if s := tb.text("#signatures"); strings.Contains(s, cands[len(cands)-1].IDNo) {
		t.Errorf("the sheet shows the candidate's ID number")
	}
}
