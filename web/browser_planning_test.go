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

// staffLogIn logs a member of staff in through the login form, wherever
// their home page is.
func (tb *tab) staffLogIn(user string) {
	tb.t.Helper()
	tb.open("/login", "login")
	tb.do("log in",
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), "staff-secret"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`body:not([data-page="login"])`)),
	)
}

// TestBrowserPlanningSlot: a scheduler publishes a slot through the form
// and sees it in the list of its day, announced.
func TestBrowserPlanningSlot(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	a.NewVenue(sched, true)
	user := planningUser(a, "scheduler")
	tb := openTab(a, t, 1280, 900)
	tb.staffLogIn(user)
	tb.open("/admin/slots", "admin_slots")
	tb.checkPage()
	if n := eval[int](tb, `document.querySelectorAll('#slots tbody tr').length`); n != 0 {
		t.Fatalf("%d slots before any was published", n)
	}
	d := a.Day(3).Format(time.DateOnly)
	tb.do("fill the slot form",
		chromedp.SetValue(chromedp.CSS("#subject"), "2"),
		chromedp.SetValue(chromedp.CSS("#date"), d),
		chromedp.SetValue(chromedp.CSS("#starts_at"), "09:00"),
		chromedp.SetValue(chromedp.CSS("#ends_at"), "11:00"),
		chromedp.SetValue(chromedp.CSS("#capacity"), ""),
		chromedp.SendKeys(chromedp.CSS("#capacity"), "15"),
		chromedp.SetValue(chromedp.CSS("#priority_reserved"), ""),
		chromedp.SendKeys(chromedp.CSS("#priority_reserved"), "3"),
	)
	tb.click(`form[method="post"][action="/admin/slots"] button[type="submit"]`, "#announce p")
	if got := tb.text("#announce"); got != "考试场次已发布。" {
		t.Errorf("announcement %q", got)
	}
	rows := eval[[]string](tb, `[...document.querySelectorAll('#slots tbody tr')].map(r => r.textContent.replace(/\s+/g, ' ').trim())`)
	if len(rows) != 1 {
		t.Fatalf("list %q, want the new slot", rows)
	}
	for _, want := range []string{d + " 09:00–11:00", "科目二", "C1", "第一考场", "0/15", "3/3", "预约中"} {
		if !strings.Contains(rows[0], want) {
			t.Errorf("row %q lacks %q", rows[0], want)
		}
	}
	if got := eval[string](tb, `document.getElementById('f-date').value`); got != d {
		t.Errorf("the list is not of the slot's day: %q", got)
	}
	tb.checkPage()
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM slots WHERE capacity = 15 AND priority_reserved = 3 AND subject = 2`); err != nil || n != 1 {
		t.Errorf("%d slots in the database (%v)", n, err)
	}
}

// TestBrowserPlanningLaneGrant: a candidate asks for the priority lane;
// staff grant the pending request from the candidates page; the candidate
// then sees the lane on their own page.
func TestBrowserPlanningLaneGrant(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	c := a.NewCandidate(sched, map[string]any{"name": "赵静"})
	cb := newBrowser(a, t)
	cb.logIn(c.IDNo, "candidate-pw", "/candidate")
	cb.get("/candidate/priority")
	cb.post("/candidate/priority", url.Values{"reason": {"disability"}, "needs": {"step_free"}, "note": {"使用轮椅"}})
	var req int64
	if err := a.DB.Get(&req, `SELECT id FROM priority_requests WHERE candidate_id = $1 AND status = 'pending'`, c.ID); err != nil {
		t.Fatal(err)
	}
	user := planningUser(a, "admin")

	tb := openTab(a, t, 1280, 900)
	tb.staffLogIn(user)
	tb.open("/admin/candidates", "admin_candidates")
	tb.checkPage()
	row := fmt.Sprintf("#request-%d", req)
	if got := tb.text(row); !strings.Contains(got, "赵静") || !strings.Contains(got, "残疾人") || !strings.Contains(got, "使用轮椅") {
		t.Errorf("request shows %q", got)
	}
	tb.click(row+" button.primary", "#announce p")
	if got := tb.text("#announce"); got != "已批准申请，绿色通道已开通。" {
		t.Errorf("announcement %q", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('`+row+`').length`); n != 0 {
		t.Errorf("the granted request is still listed")
	}
	tb.click(`.tools form button`, `body[data-page="login"]`)

	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	tb.open("/candidate/priority", "candidate_lane")
	if got := tb.text("#lane-granted"); !strings.Contains(got, "您已开通绿色通道（残疾人）") || !strings.Contains(got, "无障碍考场") {
		t.Errorf("the candidate's lane page shows %q", got)
	}
}

// TestBrowserPlanningPages: at 375 px every planning page passes the page
// checks, and a candidate named with markup shows as text on the candidate
// and roster pages: no script runs, no element is made.
func TestBrowserPlanningPages(t *testing.T) {
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 8, map[string]any{"priority_reserved": 2})
	name := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	c := a.NewCandidate(sched, map[string]any{"name": name})
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", c.ID), sched, map[string]any{"reason": "elderly"})
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
	user := planningUser(a, "scheduler")
	tb := openTab(a, t, 375, 812)

	dialogs := tb.dialogs()

	tb.staffLogIn(user)
	for _, size := range []string{"normal", "large"} {
		for _, p := range []struct{ path, page string }{
			{"/admin/venues", "admin_venues"}, {"/admin/slots", "admin_slots"}, {"/admin/slots/week", "admin_week"}, {fmt.Sprintf("/admin/slots/%d", slot), "admin_slot"},
			{"/admin/candidates", "admin_candidates"}, {fmt.Sprintf("/admin/candidates/%d", c.ID), "admin_candidate"},
		} {
			tb.open(p.path+"?size="+size, p.page)
			tb.checkPage()
			if n := eval[int](tb, `document.querySelectorAll('main script, main img').length`); n != 0 {
				t.Errorf("%s: %d script or img elements in the page", p.path, n)
			}
		}
	}
	tb.open(fmt.Sprintf("/admin/candidates/%d", c.ID), "admin_candidate")
	if got := tb.text("#candidate-name"); got != name {
		t.Errorf("candidate page shows the name as %q", got)
	}
	tb.open(fmt.Sprintf("/admin/slots/%d", slot), "admin_slot")
	if got := tb.text("#roster a"); got != name {
		t.Errorf("roster shows the name as %q", got)
	}
	if got := tb.text("#roster .lane"); got != "绿色通道" {
		t.Errorf("the lane is marked %q", got)
	}
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d dialogs opened: the name ran as script", n)
	}
}

// TestBrowserScreenshotsPlanning saves each planning page at desktop
// (1280 px) and phone (375 px) width, with a day's plan on screen, when
// EXAMD_SCREENSHOTS names the folder (`make screenshots`).
func TestBrowserScreenshotsPlanning(t *testing.T) {
	dir := screenshotDir(t)
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.Must(http.StatusCreated, "POST", "/api/v1/venues", sched,
		map[string]any{"name": "朝阳区机动车驾驶人考试中心", "address": "北京市朝阳区东坝中路88号", "step_free": true}).ID()
	a.Must(http.StatusCreated, "POST", "/api/v1/venues", sched,
		map[string]any{"name": "丰台科目三道路考场", "address": "北京市丰台区南四环西路128号", "step_free": false})
	s2 := a.NewSlot(sched, venue, 2, 3, 8, map[string]any{"capacity": 30, "priority_reserved": 4})
	s3 := a.NewSlot(sched, venue, 3, 3, 13, map[string]any{"capacity": 20, "priority_reserved": 2})
	a.NewSlot(sched, venue, 4, 3, 16, map[string]any{"capacity": 60})
	a.NewSlot(sched, venue, 2, 4, 8, map[string]any{"capacity": 30, "priority_reserved": 4, "adapted_vehicle": true})
	var first servertest.Candidate
	for i, n := range []string{"王小明", "李娜", "张伟", "刘洋", "陈静"} {
		c := a.NewCandidate(sched, map[string]any{"name": n})
		if i == 0 {
			first = c
		}
		if i == 3 {
			a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", c.ID), sched,
				map[string]any{"reason": "disability", "needs": []string{"step_free", "escort"}, "note": "使用轮椅"})
		}
		a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2, s3}})
	}
	for _, r := range []struct {
		name, reason string
		needs        []string
		note         string
	}{{"周秀英", "elderly", []string{"extra_time"}, "68岁，视力较弱"}, {"吴婷", "pregnancy", nil, ""}} {
		c := a.NewCandidate(sched, map[string]any{"name": r.name})
		if _, err := a.DB.Exec(`INSERT INTO priority_requests (candidate_id, reason, needs, note) VALUES ($1, $2, $3, $4)`,
			c.ID, r.reason, "{"+strings.Join(r.needs, ",")+"}", r.note); err != nil {
			t.Fatal(err)
		}
		if r.reason == "elderly" {
			first = c
		}
	}
	user := planningUser(a, "scheduler")
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 375, 812}} {
		t.Run(w.name, func(t *testing.T) {
			tb := openTab(a, t, w.width, w.height)
			tb.staffLogIn(user)
			for _, p := range []struct{ path, page string }{
				{"/admin/venues", "admin_venues"},
				{"/admin/slots/week", "admin_week"},
				{"/admin/slots?date=" + a.Day(3).Format(time.DateOnly), "admin_slots"},
				{fmt.Sprintf("/admin/slots/%d", s2), "admin_slot"},
				{"/admin/candidates", "admin_candidates"},
				{fmt.Sprintf("/admin/candidates/%d", first.ID), "admin_candidate"},
			} {
				tb.open(p.path, p.page)
				tb.shoot(dir, p.page+"-"+w.name+".png")
			}
			if w.name == "desktop" {
				tb.open(fmt.Sprintf("/admin/slots/%d", s2), "admin_slot")
				tb.shootPrinted(dir, "roster-printed.png", a4)
			}
		})
	}
}
