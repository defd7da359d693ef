package web_test

import (
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// twiceEachMessage makes every websocket of the page hand each message to
// its onmessage twice, as a feed that repeats itself after a resume would.
const twiceEachMessage = `(() => {
  const Native = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const ws = new Native(url, protocols);
    let handler = null;
    Object.defineProperty(ws, 'onmessage', { get: () => handler, set: (f) => { handler = f; } });
    ws.addEventListener('message', (m) => { if (handler) { handler.call(ws, m); handler.call(ws, m); } });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})();`

// TestBrowserExaminerSkipsRepeatedSeqs: the examiner's screen applies each
// seq of the feed once, even when the socket delivers it twice: one
// deduction, not two, and the score it leaves.
func TestBrowserExaminerSkipsRepeatedSeqs(t *testing.T) {
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	car := deviceID(a, t, d.Venue)
	_, booking := d.Book(t, d.Slot, 2)
	examiner := examinerAt(a, t, d.Venue)

	tb := openTab(a, t, 1280, 900)
	if _, err := chromedp.Call(tb.ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: twiceEachMessage}); err != nil {
		t.Fatalf("add the script: %v", err)
	}
	tb.logIn(examiner, "staff-secret", "examiner")
	tb.waitText("#conn", "实时连接正常", 5*time.Second)
	tile := fmt.Sprintf(`.tile[data-device="%d"]`, car)
	tb.waitText(tile, "空闲", time.Second)

	d.Post(d.Device, booking, "exam_started", nil)
	d.Post(d.Device, booking, "item_started", map[string]any{"item": "reverse_parking"})
	if r := d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.STOP"}); r.Status != http.StatusOK && r.Status != http.StatusCreated {
		t.Fatalf("deduction: %d %v", r.Status, r.Body)
	}
	tb.waitText(tile+" .deductions", "中途停车超过2秒", 5*time.Second)
	time.Sleep(200 * time.Millisecond) // a repeat would show by now
	if n := eval[int](tb, `document.querySelectorAll('`+tile+` .deductions li').length`); n != 1 {
		t.Errorf("the screen shows %d deductions for 1 posted", n)
	}
	if got := tb.text(tile + " .score"); !strings.HasPrefix(got, "95 ") {
		t.Errorf("score %q after one 5-point deduction, want 95", got)
	}
}
