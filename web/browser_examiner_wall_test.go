package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
)

// skewedClock lets a test move the page's clock (Date.now) forward without
// waiting: window.skew milliseconds are added to it. Timers run as before.
const skewedClock = `(() => {
  const real = Date.now.bind(Date);
  window.skew = 0;
  Date.now = () => real() + window.skew;
})();`

// TestBrowserExaminerWall: at 1920×1080 the examiner's screen uses the
// whole width for the tiles, its secondary texts are at least 24 px, each
// tile shows the booking count n/5 and when its car was last heard from, a
// car silent for 30 s during an exam is marked (the page's clock moved on,
// not waited for) until it reports again, and the result banner does not
// move the tiles; at 375 px it does not scroll sideways.
func TestBrowserExaminerWall(t *testing.T) {
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	car1 := deviceID(a, t, d.Venue)
	second := d.NewDevice(t, d.Venue)
	_, b1 := d.Book(t, d.Slot, 2)
	_, b2 := d.Book(t, d.Slot, 2)
	d.Post(d.Device, b1, "exam_started", nil)
	d.Post(d.Device, b1, "item_started", map[string]any{"item": "reverse_parking"})
	d.Post(d.Device, b1, "instruction", map[string]any{"text": "请倒车入库"})
	d.Post(d.Device, b1, "deduction", map[string]any{"rule": "RP.STOP"})
	examiner := examinerAt(a, t, d.Venue)

	tb := openTab(a, t, 1920, 1080)
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: skewedClock}); err != nil {
		t.Fatal(err)
	}
	cancel()
	tb.logIn(examiner, "staff-secret", "examiner")
	tb.waitText("#conn", "实时连接正常", 5*time.Second)
	tile := fmt.Sprintf(`.tile[data-device="%d"]`, car1)
	tb.waitText(tile+" .count", "第 1/5 次预约", 5*time.Second)
	tb.waitText(tile+" .seen", "最后信号", 3*time.Second)
	tb.checkPage()
	tb.checkAxe()

	// The whole width.
	if got := eval[[]float64](tb, `(rs => [Math.max(...rs.map(r => r.right)) - Math.min(...rs.map(r => r.left)), window.innerWidth])([...document.querySelectorAll('.tile')].map(e => e.getBoundingClientRect()))`); got[0] < 0.9*got[1] {
		t.Errorf("the tiles span %.0f px of %.0f", got[0], got[1])
	}
	// Secondary texts, at least 24 px.
	sizes := eval[map[string]float64](tb, `Object.fromEntries(['.what', '.count', '.item', '.instruction', '.mark', '.seen', '.deductions li'].map(s => {
		const e = document.querySelector('`+tile+` ' + s);
		return [s, e ? parseFloat(getComputedStyle(e).fontSize) : 0];
	}))`)
	for sel, px := range sizes {
		if px < 24 {
			t.Errorf("%s: %.1f px, want at least 24 (0: not shown)", sel, px)
		}
	}

	// Silent for 30 s while its exam runs: marked, and said.
	eval[bool](tb, `(window.skew = 31000, true)`)
	tb.waitText(tile+" .seen", "秒无信号", 3*time.Second)
	if got := eval[[]string](tb, `(e => [e.getAttribute('role'), e.className, e.closest('.tile').className])(document.querySelector('`+tile+` .seen'))`); got[0] != "status" || got[1] != "seen silent" {
		t.Errorf("the silent mark: %v", got)
	}
	// Heard from again: unmarked.
	d.Post(d.Device, b1, "deduction", map[string]any{"rule": "RP.STOP"})
	tb.waitText(tile+" .seen", "最后信号", 3*time.Second)

	// The second car starts; the tiles' places are taken; its result's
	// banner leaves them where they are.
	d.Post(second, b2, "exam_started", nil)
	tb.waitFor("two tiles busy", `document.querySelectorAll('.tile.status-in_progress').length === 2`, 5*time.Second)
	places := `[...document.querySelectorAll('.tile')].map(e => (r => Math.round(r.left) + ',' + Math.round(r.top))(e.getBoundingClientRect())).join(' ')`
	before := eval[string](tb, places)
	d.Post(second, b2, "exam_finished", nil)
	tb.waitFor("the banner", `[...document.querySelectorAll('#announce p')].some(p => p.textContent.includes('合格，100 分') && p.getBoundingClientRect().height > 0)`, 5*time.Second)
	if after := eval[string](tb, places); after != before {
		t.Errorf("the banner moved the tiles: %s, before %s", after, before)
	}
	// The finished car is not marked silent, whatever the time.
	eval[bool](tb, `(window.skew = 120000, true)`)
	tb.waitText(tile+" .seen", "秒无信号", 3*time.Second)
	if n := eval[int](tb, `document.querySelectorAll('.tile.silent').length`); n != 1 {
		t.Errorf("%d tiles marked silent, want the one car with an exam running", n)
	}
	tb.checkAxe()

	// A phone: no sideways scroll.
	tb.do("phone width", chromedp.EmulateViewport(375, 812))
	tb.open("/examiner", "examiner")
	tb.waitText(tile+" .count", "第 1/5 次预约", 5*time.Second)
	tb.checkPage()
}
