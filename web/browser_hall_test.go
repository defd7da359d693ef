package web_test

import (
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// waitFor evaluates the JavaScript condition expr until it holds, failing
// the test after within.
func (tb *tab) waitFor(what, expr string, within time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(within)
	for !eval[bool](tb, expr) {
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// announced counts the live region's announcements of text.
func announced(tb *tab, text string) int {
	tb.t.Helper()
	return eval[int](tb, fmt.Sprintf(`[...document.querySelectorAll('#announce p')].filter(p => p.textContent === %q).length`, text))
}

// TestBrowserHall: with the hall screen open, a device's exam shows on the
// board as it runs, its result appears in the list and is announced in the
// live region once within a few seconds, and so does a ticket the desk
// calls; the screen shows when it cannot reach examd, and stops when its
// token is revoked.
func TestBrowserHall(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	admin := newBrowser(a, t)
	admin.logIn("admin", servertest.AdminPassword, "/admin/slots")
	path, _ := newDisplay(t, admin, h.Venue, "候考大厅 1号屏")
	tb := openTab(a, t, 1920, 1080)
	tb.open(path, "hall")
	tb.checkPage()
	if got := tb.text("#hall-venue"); got != "第一考场" {
		t.Errorf("venue %q", got)
	}
	if got := tb.text("#exams-empty"); got != "暂无正在进行的考试" {
		t.Errorf("no exams: %q", got)
	}
	if got := eval[[]string](tb, `['role', 'aria-live'].map(a => document.getElementById('announce').getAttribute(a))`); fmt.Sprint(got) != "[status polite]" {
		t.Errorf("live region %v", got)
	}
	if got := tb.text("#hall-clock"); len(got) != 5 || got[2] != ':' {
		t.Errorf("clock %q", got)
	}

	_, b := bookNamed(t, h.ExamDay, h.Slot, "王小明")
	h.Post(h.Device, b, "exam_started", nil)
	h.Post(h.Device, b, "item_started", map[string]any{"item": "reverse_parking"})
	tb.waitFor("the exam under way", `[...document.querySelectorAll('#exams tbody tr')].some(r => r.textContent.includes('王**') && r.textContent.includes('倒车入库'))`, 5*time.Second)
	if !eval[bool](tb, `document.getElementById('exams-empty').hidden`) {
		t.Errorf("the empty note stays with an exam on the board")
	}

	h.Post(h.Device, b, "deduction", map[string]any{"rule": "RP.STOP"})
	h.Post(h.Device, b, "exam_finished", nil)
	say := "王**，科目二，合格，95 分"
	tb.waitFor("the result announced", fmt.Sprintf(`[...document.querySelectorAll('#announce p')].some(p => p.textContent === %q)`, say), 5*time.Second)
	if got := eval[[]string](tb, `[...document.querySelectorAll('#results tbody tr:first-child td')].map(td => td.textContent)`); fmt.Sprint(got) != "[王** 科目二 合格 95 分]" {
		t.Errorf("latest result %v", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('#exams tbody tr').length`); n != 0 {
		t.Errorf("%d exams under way after the end, want 0", n)
	}
	time.Sleep(4500 * time.Millisecond) // two more polls
	if n := announced(tb, say); n != 1 {
		t.Errorf("the result was announced %d times, want once", n)
	}

	c := h.Ready(t)
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/call", c.ID), h.Issuer, nil)
	ticket := h.InQueue(t, c)["ticket"].(string)
	call := "请 " + ticket + " 号到 3 号窗口办理"
	tb.waitFor("the call announced", fmt.Sprintf(`[...document.querySelectorAll('#announce p')].some(p => p.textContent === %q)`, call), 5*time.Second)
	if got := tb.text("#calls li:first-child .hall-ticket"); got != ticket {
		t.Errorf("first call %q, want %s", got, ticket)
	}
	if n := eval[int](tb, `document.querySelectorAll('#results tbody tr').length`); n != 4 {
		t.Errorf("%d results, want 4", n)
	}

	t.Run("Offline", func(t *testing.T) {
		eval[bool](tb, `(window.realFetch = window.fetch, window.fetch = () => Promise.reject(new TypeError('offline')), true)`)
		tb.waitFor("the offline notice", `!document.getElementById('hall-offline').hidden`, 5*time.Second)
		if got := tb.text("#hall-offline"); got != "连接中断，正在重新连接…" {
			t.Errorf("offline notice %q", got)
		}
		if got := tb.text("#calls li:first-child .hall-ticket"); got != ticket {
			t.Errorf("the board went blank offline: first call %q", got)
		}
		eval[bool](tb, `(window.fetch = window.realFetch, true)`)
		tb.waitFor("back online", `document.getElementById('hall-offline').hidden`, 15*time.Second)
	})

	t.Run("Revoked", func(t *testing.T) {
		var id int64
		if err := a.DB.Get(&id, `SELECT id FROM display_tokens WHERE venue_id = $1`, h.Venue); err != nil {
			t.Fatal(err)
		}
		admin.get("/admin/displays")
		admin.post(fmt.Sprintf("/admin/displays/%d/revoke", id), nil)
		tb.waitFor("the revoked notice", `!document.getElementById('hall-gone').hidden`, 5*time.Second)
	})
}

// TestBrowserHallEscapes: names from the database show as text on the hall
// screen, on the first page and after the script redraws it: no script
// runs, no element is made.
func TestBrowserHallEscapes(t *testing.T) {
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	evil := `<img src=x onerror=alert(1)>`
	if _, err := a.DB.Exec(`UPDATE venues SET name = $2 WHERE id = $1`, d.Venue, evil+"考场"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Exec(`UPDATE devices SET name = $2 WHERE venue_id = $1`, d.Venue, `<script>alert(2)</script>`); err != nil {
		t.Fatal(err)
	}
	admin := newBrowser(a, t)
	admin.logIn("admin", servertest.AdminPassword, "/admin/slots")
	path, _ := newDisplay(t, admin, d.Venue, `<script>alert(3)</script>`)
	_, first := bookNamed(t, d, d.Slot, `<script>alert(4)</script>`)
	d.Post(d.Device, first, "exam_started", nil)

	tb := openTab(a, t, 1280, 900)
	dialogs := tb.dialogs()

	masked := "<" + strings.Repeat("*", len([]rune(`<script>alert(4)</script>`))-1)
	tb.open(path, "hall")
	check := func(when string) {
		t.Helper()
		if got := tb.text("#hall-venue"); got != evil+"考场" {
			t.Errorf("%s: venue %q", when, got)
		}
		if got := eval[[]string](tb, `[...document.querySelectorAll('#exams tbody td')].map(td => td.textContent)`); len(got) != 4 ||
			got[0] != masked || got[2] != `<script>alert(2)</script>` {
			t.Errorf("%s: exam row %q", when, got)
		}
		if n := eval[int](tb, `document.querySelectorAll('main script, main img, header img').length`); n != 0 {
			t.Errorf("%s: %d script or img elements made from data", when, n)
		}
	}
	check("first page")
	_, second := bookNamed(t, d, d.Slot, `"><svg onload=alert(5)>`)
	car2 := d.NewDevice(t, d.Venue) // one exam at a time per car (ED-ATTEMPT)
	d.Post(car2, second, "exam_started", nil)
	tb.waitFor("the second exam", `document.querySelectorAll('#exams tbody tr').length === 2`, 5*time.Second)
	d.Post(car2, second, "exam_finished", nil)
	tb.waitFor("the result", `document.querySelectorAll('#results tbody tr').length === 1`, 5*time.Second)
	if got := tb.text("#results tbody td.hall-name"); got != `"`+strings.Repeat("*", len([]rune(`"><svg onload=alert(5)>`))-1) {
		t.Errorf("result name %q", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('svg').length`); n != 0 {
		t.Errorf("%d svg elements", n)
	}
	time.Sleep(500 * time.Millisecond)
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d dialogs opened: data ran as script", n)
	}

	// The admin's page shows the label as text too.
	tb.logIn("admin", servertest.AdminPassword, "admin_slots")
	tb.open("/admin/displays", "admin_displays")
	if got := tb.text(".display .when"); got != `<script>alert(3)</script>` {
		t.Errorf("label %q", got)
	}
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d dialogs opened on the admin's page", n)
	}
}

// TestBrowserHallPhone: at 375 px, in normal and large type, the board and
// the admin's page fit the width and keep their labels.
func TestBrowserHallPhone(t *testing.T) {
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	admin := newBrowser(a, t)
	admin.logIn("admin", servertest.AdminPassword, "/admin/slots")
	path, _ := newDisplay(t, admin, h.Venue, "候考大厅 1号屏")
	fillHall(t, h)
	tb := openTab(a, t, 375, 812)
	for _, size := range []string{"normal", "large"} {
		tb.open(path+"?size="+size, "hall")
		tb.checkPage()
	}
	tb.logIn("admin", servertest.AdminPassword, "admin_slots")
	for _, size := range []string{"normal", "large"} {
		tb.open("/admin/displays?size="+size, "admin_displays")
		tb.checkPage()
	}
}

// fillHall puts realistic data on a hall's board: two exams under way, a
// failed and some passed results, a call to the desk.
func fillHall(t *testing.T, h *servertest.Hall) {
	t.Helper()
	_, b1 := bookNamed(t, h.ExamDay, h.Slot, "张三丰")
	h.Post(h.Device, b1, "exam_started", nil)
	h.Post(h.Device, b1, "item_started", map[string]any{"item": "hill_start"})
	// A second car (ED-ATTEMPT: one exam at a time per car): 欧阳娜娜 fails
	// outright, then 李四 gets in.
	car2 := h.NewDevice(t, h.Venue)
	_, b2 := bookNamed(t, h.ExamDay, h.Slot3, "欧阳娜娜")
	h.Post(car2, b2, "exam_started", nil)
	h.Post(car2, b2, "deduction", map[string]any{"rule": "S3.HANDS_OFF"})
	_, b3 := bookNamed(t, h.ExamDay, h.Slot3, "李四")
	h.Post(car2, b3, "exam_started", nil)
	h.Post(car2, b3, "item_started", map[string]any{"item": "lane_change"})
	c := h.Ready(t)
	if _, err := h.A.DB.Exec(`UPDATE candidates SET name = '陈建国' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	h.A.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/call", c.ID), h.Issuer, nil)
}

// TestBrowserScreenshotsHall saves the hall board at 1920×1080 and 375×812,
// and the admin's display page at desktop and phone width, into
// $EXAMD_SCREENSHOTS (`make screenshots`).
func TestBrowserScreenshotsHall(t *testing.T) {
	dir := screenshotDir(t)
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	admin := newBrowser(a, t)
	admin.logIn("admin", servertest.AdminPassword, "/admin/slots")
	path, _ := newDisplay(t, admin, h.Venue, "候考大厅 1号屏")
	newDisplay(t, admin, h.Venue, "候考大厅 2号屏")
	newDisplay(t, admin, h.Venue, "旧屏（已更换）")
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM display_tokens WHERE label = '旧屏（已更换）'`); err != nil {
		t.Fatal(err)
	}
	admin.get("/admin/displays")
	admin.post(fmt.Sprintf("/admin/displays/%d/revoke", id), url.Values{})
	fillHall(t, h)
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1920, 1080}, {"phone", 375, 812}} {
		t.Run(w.name, func(t *testing.T) {
			tb := openTab(a, t, w.width, w.height)
			tb.open(path, "hall")
			tb.shoot(dir, "hall-"+w.name+".png")
			if w.name == "desktop" {
				tb.do("desktop width", chromedp.EmulateViewport(1280, 900))
			}
			tb.logIn("admin", servertest.AdminPassword, "admin_slots")
			tb.open("/admin/displays", "admin_displays")
			tb.shoot(dir, "admin_displays-"+w.name+".png")
		})
	}
}
