package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
)

// speechStub replaces the browser's speech synthesis before the page's
// scripts run: each utterance asked for is recorded (text, lang, volume)
// in window.spoken and "ends" at once. AudioContext is made to start
// suspended, as it does in a browser without the kiosk's autoplay flag.
const speechStub = `(() => {
  window.spoken = [];
  const synth = {
    speak(u) {
      window.spoken.push({text: u.text, lang: u.lang, volume: u.volume});
      setTimeout(() => { if (u.onend) u.onend(new Event('end')); }, 10);
    },
    cancel() {}, pause() {}, resume() {},
    getVoices() { return []; },
    speaking: false, pending: false, paused: false,
    addEventListener() {}, removeEventListener() {},
  };
  Object.defineProperty(window, 'speechSynthesis', {value: synth, configurable: true});
  const Real = window.AudioContext;
  if (Real) {
    window.AudioContext = class extends Real {
      constructor(...a) { super(...a); this.suspend(); this._gesture = false; }
      get state() { return this._gesture ? super.state : 'suspended'; }
      resume() { this._gesture = true; return super.resume(); }
    };
  }
})();`

// TestBrowserHallSpeaks: the hall board reads each new call aloud in
// Mandarin ("请 A001 号到 3 号窗口办理", lang zh-CN, at the display's volume)
// as many times as its URL says, once per call (not again on later polls
// or a reload), only after "开启语音" (before it, the call is shown, not
// spoken); a served ticket leaves "now calling" and stays in the history of
// at most five; at 1920×1080 the board is the whole screen, without the
// site's header, and no larger.
func TestBrowserHallSpeaks(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	admin := newBrowser(a, t)
	admin.logIn("admin", servertest.AdminPassword, "/admin/slots")
	path, _ := newDisplay(t, admin, h.Venue, "候考大厅 1号屏")

	tb := openTab(a, t, 1920, 1080)
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: speechStub}); err != nil {
		t.Fatal(err)
	}
	cancel()
	tb.open(path+"?volume=0.6&repeat=3", "hall")
	tb.checkPage()
	tb.checkAxe()

	// The kiosk layout: the board, nothing else, exactly the screen.
	if n := eval[int](tb, `document.querySelectorAll('header, nav, footer').length`); n != 0 {
		t.Errorf("%d header, nav or footer elements on the kiosk board", n)
	}
	if got := eval[[]int](tb, `[document.documentElement.scrollWidth, document.documentElement.scrollHeight, window.innerWidth, window.innerHeight]`); got[0] > got[2] || got[1] > got[3] {
		t.Errorf("the board is %d×%d in a %d×%d window", got[0], got[1], got[2], got[3])
	}
	if got := eval[[]float64](tb, `(r => [r.width, r.bottom])(document.querySelector('.hall-grid').getBoundingClientRect())`); got[0] < 0.9*1920 || got[1] < 0.9*1080 {
		t.Errorf("the panels cover %.0f px wide down to %.0f px: not the whole screen", got[0], got[1])
	}

	call := func(c servertest.Candidate) string {
		t.Helper()
		a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/call", c.ID), h.Issuer, nil)
		return h.InQueue(t, c)["ticket"].(string)
	}
	spoken := func(text string) int {
		t.Helper()
		return eval[int](tb, fmt.Sprintf(`window.spoken.filter(u => u.text === %q && u.lang === 'zh-CN' && Math.abs(u.volume - 0.6) < 0.001).length`, text))
	}

	// Before the first touch: the call is shown, not spoken.
	first := h.Ready(t)
	t1 := call(first)
	tb.waitFor("the first call shown", fmt.Sprintf(`document.querySelector('#calling li:first-child .hall-ticket')?.textContent === %q`, t1), 5*time.Second)
	if n := eval[int](tb, `window.spoken.length`); n != 0 {
		t.Errorf("%d utterances before 开启语音", n)
	}
	if got := tb.text("#hall-sound"); got != "开启语音" {
		t.Errorf("sound button %q", got)
	}
	tb.click("#hall-sound", "#hall-sound[hidden]")

	// After it, each new call is spoken three times (?repeat=3), once.
	second := h.Ready(t)
	t2 := call(second)
	say2 := "请 " + t2 + " 号到 3 号窗口办理"
	tb.waitFor("the second call spoken", fmt.Sprintf(`window.spoken.filter(u => u.text === %q).length === 3`, say2), 8*time.Second)
	time.Sleep(4500 * time.Millisecond) // two more polls
	if n := spoken(say2); n != 3 {
		t.Errorf("%q spoken %d times at zh-CN, volume 0.6, want 3: %v", say2, n, eval[any](tb, `window.spoken`))
	}
	if n := spoken("请 " + t1 + " 号到 3 号窗口办理"); n != 0 {
		t.Errorf("the call made before 开启语音 was spoken %d times later", n)
	}

	// Served: the desk accepts the second; it leaves "now calling".
	if r := h.Step(second, "accept"); r.Status != http.StatusOK {
		t.Fatalf("accept: %d %s", r.Status, r.Raw)
	}
	tb.waitFor("the served call gone from now calling", fmt.Sprintf(`![...document.querySelectorAll('#calling .hall-ticket')].some(e => e.textContent === %q)`, t2), 5*time.Second)
	if !eval[bool](tb, fmt.Sprintf(`[...document.querySelectorAll('#calls li.served .hall-ticket')].some(e => e.textContent === %q)`, t2)) {
		t.Errorf("the served call left the history too")
	}

	// Five more calls: each spoken, the history holds the latest five.
	var tickets []string
	for i := 0; i < 5; i++ {
		tickets = append(tickets, call(h.Ready(t)))
	}
	last := "请 " + tickets[4] + " 号到 3 号窗口办理"
	tb.waitFor("the last call spoken", fmt.Sprintf(`window.spoken.filter(u => u.text === %q).length === 3`, last), 20*time.Second)
	for _, tk := range tickets {
		if n := spoken("请 " + tk + " 号到 3 号窗口办理"); n != 3 {
			t.Errorf("%s spoken %d times, want 3", tk, n)
		}
	}
	if got := eval[[]string](tb, `[...document.querySelectorAll('#calls .hall-ticket')].map(e => e.textContent)`); fmt.Sprint(got) != fmt.Sprint([]string{tickets[4], tickets[3], tickets[2], tickets[1], tickets[0]}) {
		t.Errorf("history %v, want the latest five of %v", got, tickets)
	}
	if got := eval[[]int](tb, `[document.documentElement.scrollHeight, window.innerHeight]`); got[0] > got[1] {
		t.Errorf("with five calls the board is %d px high in a %d px window", got[0], got[1])
	}
	tb.checkAxe()

	// A reload speaks nothing again.
	tb.open(path+"?volume=0.6&repeat=3", "hall")
	tb.click("#hall-sound", "#hall-sound[hidden]")
	time.Sleep(4500 * time.Millisecond)
	if n := eval[int](tb, `window.spoken.length`); n != 0 {
		t.Errorf("after a reload %d utterances of calls already made: %v", n, eval[any](tb, `window.spoken`))
	}
}
