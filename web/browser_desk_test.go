package web_test

import (
	"examd/internal/server/servertest"
	"examd/internal/testkit"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// openDesk logs user in and opens the desk page, its live feed connected.
func (tb *tab) openDesk(user string) {
	tb.t.Helper()
	tb.logIn(user, "desk-secret", "desk")
	tb.open("/desk", "desk")
	tb.do("connect the live queue", chromedp.WaitReady(chromedp.CSS(`body[data-live="connected"]`)))
}

// confirmStep presses a step's button sel, answers 确认办理 in the
// confirmation dialog (which names the step) and waits for waitFor.
func (tb *tab) confirmStep(sel, waitFor string) {
	tb.t.Helper()
	tb.do("press "+sel, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitReady(chromedp.CSS(`dialog#confirm[open]`)))
	if got := tb.text("#confirm-text"); !strings.HasPrefix(got, "为 ") {
		tb.t.Errorf("the confirmation says %q", got)
	}
	tb.click("#confirm-yes", waitFor)
}

// TestBrowserDeskSteps: the issuing desk takes a candidate who passed
// subject 3 today and signed through the call and the three steps with the
// page's buttons, and the licence number appears on the page.
func TestBrowserDeskSteps(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	issuer := deskUser(t, a, "issuer", "3号窗口")
	c := readyAs(t, h, "王小明", false)
	row := fmt.Sprintf("#cand-%d", c.ID)
	tb := openTab(a, t, 1280, 900)
	tb.openDesk(issuer)
	tb.checkPage()
	if got := tb.text("#live-state"); got != "实时更新：已连接" {
		t.Errorf("connection state %q", got)
	}
	if got := tb.text(row + " .ticket"); got != "A001" {
		t.Errorf("ticket %q", got)
	}

	tb.click(row+` form[action$="/call"] button`, row+` button[value="accept"].primary`)
	if got := tb.text("#announce"); got != "已叫号。" {
		t.Errorf("after the call: announcement %q", got)
	}
	if got := tb.text(row + " .state"); got != "已叫号" {
		t.Errorf("after the call: state %q", got)
	}
	tb.do("tick the checklist", chromedp.Click(chromedp.CSS(row+` input[value="id_card"]`)),
		chromedp.Click(chromedp.CSS(row+` input[value="photo"]`)), chromedp.Click(chromedp.CSS(row+` input[value="medical"]`)))
	tb.confirmStep(row+` button[value="accept"]`, row+` button[value="review_fee"]`)
	if got := tb.text(row + ` button[value="review_fee"]`); got != "审核缴费（10 元）" {
		t.Errorf("the review button %q, want the fee on it", got)
	}
	tb.do("give the payment", chromedp.SetValue(chromedp.CSS(row+` select[name="payment_method"]`), "mobile"),
		chromedp.SendKeys(chromedp.CSS(row+` input[name="receipt_number"]`), "WX-0001"))
	tb.confirmStep(row+` button[value="review_fee"]`, row+` button[value="print"]`)
	tb.confirmStep(row+` button[value="print"]`, "#licence-number")
	if got := tb.text("#licence-number"); got != c.IDNo {
		t.Errorf("licence number %q, want %s", got, c.IDNo)
	}
	if got := tb.text("#announce"); got != "驾驶证已制证，证号和档案编号见下方。" {
		t.Errorf("after printing: announcement %q", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('`+row+`').length`); n != 0 {
		t.Errorf("the served candidate is still in the queue")
	}
	tb.click("#served-toggle", row)
	if got := tb.text(row + " .state"); got != "已制证" {
		t.Errorf("after printing: state %q", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('`+row+` button').length`); n != 0 {
		t.Errorf("the issued row offers %d buttons", n)
	}
	tb.checkPage()
	r := h.A.Must(http.StatusOK, "GET", "/api/v1/me/journey", c.Token, nil)
	if d, _ := r.Body["issuance"].(map[string]any); d["step"] != "issued" {
		t.Errorf("the API says %v", r.Body["issuance"])
	}
}

// TestBrowserDeskLive: candidates who become ready while the desk page is
// open appear in its queue without a reload, the priority lane first and
// marked; after a network drop the page says so, reconnects by itself with
// since = the last seq it saw, and shows what changed meanwhile; a name
// made of markup is shown as text.
func TestBrowserDeskLive(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	issuer := deskUser(t, a, "issuer", "3号窗口")
	first := readyAs(t, h, "张伟", false)
	proxy := newCutProxy(t, a.URL)
	via := *a
	via.Client = &testkit.Client{T: t, URL: proxy.url}
	tb := openTab(&via, t, 1280, 900)
	dialogs := tb.dialogs()
	tb.openDesk(issuer)
	eval[bool](tb, `window.deskNotReloaded = true`)

	lane := readyAs(t, h, "李秀英", true)
	tb.do("wait for the lane's candidate", chromedp.WaitReady(chromedp.CSS(fmt.Sprintf(`#queue tbody tr:first-child[id="cand-%d"]`, lane.ID))))
	rows := eval[[]string](tb, `[...document.querySelectorAll('#queue tbody tr')].map(r => r.id + ' ' + r.querySelector('.ticket').textContent.trim())`)
	if want := fmt.Sprintf("[cand-%d P001 绿色通道 cand-%d A001]", lane.ID, first.ID); fmt.Sprint(rows) != want {
		t.Errorf("queue %v, want %s", rows, want)
	}
	if got := tb.text(fmt.Sprintf("#cand-%d .badge", lane.ID)); got != "绿色通道" {
		t.Errorf("the lane's badge %q", got)
	}
	if got := tb.text("#announce"); got != "新考生待领证：P001（李**）" {
		t.Errorf("announcement %q", got)
	}

	// The network drops; a candidate becomes ready meanwhile.
	proxy.cut()
	tb.do("notice the drop", chromedp.WaitReady(chromedp.CSS(`body[data-live="reconnecting"]`)))
	if got := tb.text("#live-state"); got != "实时更新：已断开，正在重连…" {
		t.Errorf("connection state %q", got)
	}
	var seen int64 // the feed's seq before the drop: the last event the page saw
	if err := a.DB.Get(&seen, `SELECT seq FROM feed_topics WHERE topic = 'issuance'`); err != nil {
		t.Fatal(err)
	}
	name := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	evil := readyAs(t, h, name, false)
	proxy.restore()
	tb.do("wait for the candidate ready during the drop", chromedp.WaitReady(chromedp.CSS(fmt.Sprintf(`#cand-%d`, evil.ID))),
		chromedp.WaitReady(chromedp.CSS(`body[data-live="connected"]`)))
	if sent := proxy.requested(); !strings.Contains(sent, fmt.Sprintf("GET /desk/live?since=%d HTTP/1.1", seen)) {
		t.Errorf("the page did not resume with since: %s", regexp.MustCompile(`GET /desk/live[^ ]*`).FindAllString(sent, -1))
	}
	if got := tb.text(fmt.Sprintf("#cand-%d .name", evil.ID)); got != name {
		t.Errorf("the name shows as %q", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('main script, main img').length`); n != 0 {
		t.Errorf("%d script or img elements in the page", n)
	}
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d dialogs opened: the name ran as script", n)
	}
	if !eval[bool](tb, `window.deskNotReloaded === true`) {
		t.Errorf("the page was reloaded")
	}
	tb.checkPage()
}

// TestBrowserDeskPhone: at 375 px, in normal and large type, the desk and
// the report scroll not sideways and keep their labels; the queue's rows
// become cards that name each value.
func TestBrowserDeskPhone(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	issuer := deskUser(t, a, "issuer", "3号窗口")
	readyAs(t, h, "欧阳娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜", true)
	c := readyAs(t, h, "王小明", false)
	tb := openTab(a, t, 375, 812)
	tb.openDesk(issuer)
	for _, size := range []string{"normal", "large"} {
		tb.open("/desk?size="+size, "desk")
		tb.checkPage()
		if got := eval[string](tb, fmt.Sprintf(`getComputedStyle(document.querySelector('#cand-%d td'), '::before').content`, c.ID)); got != `"姓名"` {
			t.Errorf("size=%s: the card's first value is labelled %s", size, got)
		}
		tb.open("/desk/report?size="+size, "desk_report")
		tb.checkPage()
	}
}

// TestBrowserScreenshotsDesk saves the desk and the day's report at desktop
// and phone width when EXAMD_SCREENSHOTS names the folder.
func TestBrowserScreenshotsDesk(t *testing.T) {
	dir := screenshotDir(t)
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	issuer := deskUser(t, a, "issuer", "3号窗口")
	token := a.Login(issuer, "desk-secret")
	act := func(c servertest.Candidate, steps ...string) {
		for _, s := range steps {
			if s == "call" {
				a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/call", c.ID), token, nil)
				continue
			}
			a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/steps", c.ID), token, servertest.StepBody(s))
		}
	}
	done := readyAs(t, h, "王小明", false)
	act(done, "call", "accept", "review_fee", "print")
	act(readyAs(t, h, "刘芳", false), "call", "accept")
	readyAs(t, h, "陈静", false)
	act(readyAs(t, h, "李秀英", true), "call")
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 375, 812}} {
		t.Run(w.name, func(t *testing.T) {
			tb := openTab(a, t, w.width, w.height)
			tb.openDesk(issuer)
			tb.open(fmt.Sprintf("/desk?done=desk_print&issued=%d", done.ID), "desk")
			tb.do("connect", chromedp.WaitReady(chromedp.CSS(`body[data-live="connected"]`)))
			tb.checkPage()
			tb.shoot(dir, "desk-"+w.name+".png")
			tb.open("/desk/report", "desk_report")
			tb.checkPage()
			tb.shoot(dir, "desk-report-"+w.name+".png")
			if w.name == "desktop" {
				tb.shootPrinted(dir, "report-printed.png", a4)
				tb.open(fmt.Sprintf("/desk/%d/receipt", done.ID), "desk_receipt")
				tb.shoot(dir, "receipt-desktop.png")
				tb.shootPrinted(dir, "receipt-printed.png", receipt)
				tb.open(fmt.Sprintf("/desk/%d/receipt?kind=fee", done.ID), "desk_receipt")
				tb.shootPrinted(dir, "fee-printed.png", receipt)
			}
		})
	}
}
