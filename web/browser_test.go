package web_test

// The browser harness: Go tests drive Debian's Chromium headless through
// chromedp against a real examd on its own PostgreSQL. Without Chromium the
// browser tests skip, except under CI (the variable CI set), where they fail:
// .ci/run installs the packages chromium and fonts-noto-cjk (so that Chinese
// renders as text, not boxes).
//
// A failed test saves a full-page screenshot, failure.png, in its artifact
// directory (t.ArtifactDir): run `go test -artifacts -outputdir DIR` to keep
// them under DIR; without -artifacts the directory is temporary. The test log
// names the file either way.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// actionTimeout bounds one step of a browser test, so that a page that never
// shows what the test waits for fails the test rather than hanging it. The
// browser itself lives as long as the test, so that the failure can still
// be photographed.
const actionTimeout = 20 * time.Second

// browsers admits one Chromium at a time: a browser takes most of a core,
// and the tests run on two-core machines next to PostgreSQL and examd.
var browsers = make(chan struct{}, 1)

// tab is a page of a headless Chromium of its own, on a fresh profile.
type tab struct {
	t   *testing.T
	a   *servertest.App
	ctx context.Context
}

// openTab starts Chromium with a window of width × height CSS pixels, its
// browser language Chinese (Accept-Language zh-CN), as at the hall.
func openTab(a *servertest.App, t *testing.T, width, height int) *tab {
	t.Helper()
	exe := testkit.ChromiumPath(t)
	browsers <- struct{}{}
	t.Cleanup(func() { <-browsers })
	ctx, cancel := testkit.Chromium(t, width, height)
	tb := &tab{t: t, a: a, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			tb.saveScreenshot("failure.png")
		}
		cancel()
	})
	// The first action starts the browser, bound to ctx (not to a timeout).
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start Chromium %s: %v", exe, err)
	}
	return tb
}

// dialogs counts the JavaScript dialogs (alert, confirm) the tab opens from
// now on, accepting each: a page that runs a name as script opens one.
func (tb *tab) dialogs() *atomic.Int32 {
	var n atomic.Int32
	opened := chromedp.Events(tb.ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range opened {
			if err != nil {
				return
			}
			n.Add(1)
			_, _ = chromedp.Call(tb.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return &n
}

// saveScreenshot writes a full-page PNG into the test's artifact directory.
func (tb *tab) saveScreenshot(name string) {
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Logf("no screenshot: %v", err)
		return
	}
	path := filepath.Join(tb.t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Logf("no screenshot: %v", err)
		return
	}
	tb.t.Logf("screenshot: %s", path)
}

// do runs actions, failing the test on the first error.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// open loads a path of examd and waits for the page named.
func (tb *tab) open(path, page string) {
	tb.t.Helper()
	tb.do("open "+path, chromedp.Navigate(tb.a.URL+path), chromedp.WaitReady(chromedp.CSS(`body[data-page="`+page+`"]`)))
}

// submit clicks the button sel and waits for sel2 to appear.
func (tb *tab) click(sel, waitFor string) {
	tb.t.Helper()
	tb.do("click "+sel, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitReady(chromedp.CSS(waitFor)))
}

// text is the rendered text of the first element sel matches.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// logIn logs in through the login form, as a person would: type, press the button.
func (tb *tab) logIn(user, password, landing string) {
	tb.t.Helper()
	tb.open("/login", "login")
	tb.do("log in",
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS(`body[data-page="`+landing+`"]`)),
	)
}

// checkPage checks what every page owes everyone: a language, a title, a
// skip link first in the tab order, a label for every control, nothing
// wider than the window.
func (tb *tab) checkPage() {
	tb.t.Helper()
	var problems []string
	if eval[string](tb, `document.documentElement.lang`) == "" || eval[string](tb, `document.title`) == "" {
		problems = append(problems, "no lang or title")
	}
	if n := eval[int](tb, `[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
		.filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).length`); n > 0 {
		problems = append(problems, fmt.Sprintf("%d controls without a label", n))
	}
	if eval[string](tb, `document.querySelector('a, button, input:not([type=hidden]), select').className`) != "skip" {
		problems = append(problems, "the skip link is not first")
	}
	if w := eval[[]int](tb, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		problems = append(problems, fmt.Sprintf("scrolls sideways: %d px wide in a %d px window", w[0], w[1]))
	}
	if len(problems) > 0 {
		tb.t.Errorf("%s: %s", eval[string](tb, `location.pathname`), strings.Join(problems, "; "))
	}
}

// bookingDay sets up a venue with a combined pair on day 5 and returns the
// scheduler's token, the venue and the slots.
func bookingDay(t *testing.T, a *servertest.App) (sched string, venue, s2, s3 int64) {
	t.Helper()
	sched = a.Staff("scheduler")
	venue = a.NewVenue(sched, false)
	s2 = a.NewSlot(sched, venue, 2, 5, 8, nil)
	s3 = a.NewSlot(sched, venue, 3, 5, 13, nil)
	return sched, venue, s2, s3
}

// TestBrowserCombinedBooking: a candidate logs in with their ID number, finds
// the combined exam on the slot page, books it with one button and sees both
// bookings in their list.
func TestBrowserCombinedBooking(t *testing.T) {
	a := servertest.Start(t)
	sched, _, s2, s3 := bookingDay(t, a)
	c := a.NewCandidate(sched, map[string]any{"name": "王小明"})
	tb := openTab(a, t, 1280, 900)

	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	if got := tb.text(".who"); got != "王小明" {
		t.Errorf("header shows %q", got)
	}
	if got := tb.text(".next .big"); !strings.Contains(got, "请预约科目二、科目三考试") {
		t.Errorf("next step %q", got)
	}
	tb.checkPage()
	tb.click(`nav a[href="/candidate/slots"]`, `body[data-page="candidate_slots"]`)
	tb.checkPage()
	pair := fmt.Sprintf("#pair-%d-%d", s2, s3)
	if got := tb.text(pair + " .when"); !strings.Contains(got, longDateZh(a.Day(5))) || !strings.Contains(got, "第一考场") {
		t.Errorf("pair shows %q", got)
	}
	if got := tb.text(pair + " button"); got != "预约联考" {
		t.Errorf("pair button %q", got)
	}
	tb.click(pair+" button", `body[data-page="candidate_slip"]`)
	if got := tb.text("#announce"); got != "预约成功。" {
		t.Errorf("announcement %q", got)
	}
	tb.click(`nav a[href="/candidate/bookings"]`, `body[data-page="candidate_bookings"]`)
	rows := eval[[]string](tb, `[...document.querySelectorAll('#bookings > li .when')].map(e => e.textContent.trim())`)
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "科目三 联考") || !strings.HasPrefix(rows[1], "科目二 联考") {
		t.Errorf("bookings list %q, want subject 3 and subject 2, both combined", rows)
	}
	if n := eval[int](tb, `[...document.querySelectorAll('#bookings .status')].filter(e => e.textContent === '已预约').length`); n != 2 {
		t.Errorf("%d bookings shown as booked, want 2", n)
	}
	tb.checkPage()
	r := a.Must(200, "GET", "/api/v1/me/bookings", c.Token, nil)
	if n := len(r.Body["bookings"].([]any)); n != 2 {
		t.Errorf("the API lists %d bookings, want 2", n)
	}
}

// TestBrowserRefusal: a refused booking shows the Chinese message of its code
// next to the button that asked, announced (role=alert) and named by the
// button's aria-describedby when the button stays.
func TestBrowserRefusal(t *testing.T) {
	a := servertest.Start(t)
	sched, venue, s2, s3 := bookingDay(t, a)
	last := a.NewSlot(sched, venue, 2, 6, 9, map[string]any{"capacity": 1})
	c := a.NewCandidate(sched, nil)
	tb := openTab(a, t, 1280, 900)
	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")

	t.Run("SlotFull", func(t *testing.T) {
		tb.open("/candidate/slots?subject=2", "candidate_slots")
		// The last seat goes while the page is open.
		other := a.NewCandidate(sched, nil)
		a.Must(201, "POST", "/api/v1/bookings", other.Token, map[string]any{"slot_ids": []int64{last}})
		row := fmt.Sprintf("#slot-%d", last)
		tb.click(row+" button", row+" .refusal")
		if got := tb.text(row + ` [role="alert"]`); got != "该场次已约满" {
			t.Errorf("refusal %q, want slot_full's message", got)
		}
		if got := eval[string](tb, `document.documentElement.lang`); got != "zh-CN" {
			t.Errorf("lang %q", got)
		}
		if got := eval[string](tb, `document.getElementById('f-subject').value`); got != "2" {
			t.Errorf("the filter was lost: subject %q", got)
		}
	})

	t.Run("AlreadyBooked", func(t *testing.T) {
		// A subject 2 booking on another day, made while the page is open:
		// BK-ONE refuses the pair (a page loaded after it offers no button).
		other2 := a.NewSlot(sched, venue, 2, 7, 9, nil)
		tb.open("/candidate/slots?subject=23", "candidate_slots")
		a.Must(201, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{other2}})
		pair := fmt.Sprintf("#pair-%d-%d", s2, s3)
		tb.click(pair+" button", pair+" .refusal")
		if got := tb.text(pair + " .refusal"); got != "该科目已有有效预约，每个科目同时只能预约一个场次" {
			t.Errorf("refusal %q, want already_booked's message", got)
		}
		// The page answering knows the subject is booked: the pair offers
		// no button any more, and the refusal is not repeated as a reason.
		if n := eval[int](tb, `document.querySelectorAll('`+pair+` button, `+pair+` .reason').length`); n != 0 {
			t.Errorf("the refused pair still shows %d buttons or reasons", n)
		}
		if role := eval[string](tb, `document.querySelector('`+pair+` .refusal').getAttribute('role')`); role != "alert" {
			t.Errorf("refusal role %q", role)
		}
		tb.checkPage()
	})
}

// TestBrowserEscapesNames: a candidate named <script>alert(1)</script> is
// shown as text on every page: no script runs, no element is made.
func TestBrowserEscapesNames(t *testing.T) {
	a := servertest.Start(t)
	sched, _, s2, _ := bookingDay(t, a)
	name := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	c := a.NewCandidate(sched, map[string]any{"name": name})
	a.Must(201, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2}})
	tb := openTab(a, t, 1280, 900)

	dialogs := tb.dialogs()

	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	for _, p := range []struct{ path, page string }{
		{"/candidate", "candidate_journey"}, {"/candidate/slots", "candidate_slots"}, {"/candidate/bookings", "candidate_bookings"},
	} {
		tb.open(p.path, p.page)
		if got := tb.text(".who"); got != name {
			t.Errorf("%s: header shows %q, want the name as text", p.path, got)
		}
		// The pages' own scripts (notifications.js) come from /static.
		if n := eval[int](tb, `document.querySelectorAll('script:not([src^="/static/"]), img').length`); n != 0 {
			t.Errorf("%s: %d script or img elements, want none", p.path, n)
		}
	}
	tb.open("/candidate", "candidate_journey")
	if got := tb.text("dl.pairs dd"); got != name {
		t.Errorf("journey shows the name as %q", got)
	}
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d dialogs opened: the name ran as script", n)
	}
}

// TestBrowserLanguageSwitch: Chinese by default; the switch shows English,
// keeps it across pages, and switches back.
func TestBrowserLanguageSwitch(t *testing.T) {
	a := servertest.Start(t)
	sched, _, _, _ := bookingDay(t, a)
	c := a.NewCandidate(sched, nil)
	tb := openTab(a, t, 1280, 900)

	tb.open("/login", "login")
	if got := tb.text("h1"); got != "登录" {
		t.Errorf("default heading %q", got)
	}
	tb.click("#lang-switch", `html[lang="en"]`)
	if got := tb.text("h1"); got != "Log in" {
		t.Errorf("English heading %q", got)
	}
	if got := tb.text(`label[for="username"]`); got != "ID number or username" {
		t.Errorf("English label %q", got)
	}
	tb.do("log in",
		chromedp.SendKeys(chromedp.CSS("#username"), c.IDNo),
		chromedp.SendKeys(chromedp.CSS("#password"), "wrong-password"),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
		chromedp.WaitReady(chromedp.CSS("#login-error")),
	)
	if got := tb.text("#login-error"); got != "Wrong ID number (username) or password. Please try again." {
		t.Errorf("English refusal %q", got)
	}
	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	if got := tb.text("h1"); got != "My progress" {
		t.Errorf("journey heading %q", got)
	}
	if got := tb.text(".next .big"); !strings.HasPrefix(got, "Book subjects 2 and 3") {
		t.Errorf("next step in English: %q", got)
	}
	tb.click("#lang-switch", `html[lang="zh-CN"]`)
	if got := tb.text("h1"); got != "我的进度" {
		t.Errorf("back in Chinese: %q", got)
	}
}

// TestBrowserPriorityLane: a candidate asks for the priority lane with a
// reason, needs and a note, and sees the request waiting.
func TestBrowserPriorityLane(t *testing.T) {
	a := servertest.Start(t)
	sched, _, _, _ := bookingDay(t, a)
	c := a.NewCandidate(sched, nil)
	tb := openTab(a, t, 1280, 900)
	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	tb.click(`a[href="/candidate/priority"]`, `body[data-page="candidate_lane"]`)
	tb.checkPage()
	tb.click(`main form button[type="submit"]`, "#err-reason")
	if got := tb.text("#err-reason"); got != "请选择申请原因。" {
		t.Errorf("no reason: %q", got)
	}
	tb.do("fill the request",
		chromedp.Click(chromedp.CSS(`label[for="reason-disability"]`)),
		chromedp.Click(chromedp.CSS(`label[for="need-step_free"]`)),
		chromedp.SendKeys(chromedp.CSS("#note"), "需要轮椅通道"),
	)
	tb.click(`main form button[type="submit"]`, "#lane-pending")
	if got := tb.text("#announce"); got != "申请已提交，工作人员核实后将为您开通。" {
		t.Errorf("announcement %q", got)
	}
	if got := eval[[]bool](tb, `['reason-disability', 'need-step_free', 'need-escort'].map(id => document.getElementById(id).checked)`); fmt.Sprint(got) != "[true true false]" {
		t.Errorf("the form shows %v, want the pending request", got)
	}
	if got := eval[string](tb, `document.getElementById('note').value`); got != "需要轮椅通道" {
		t.Errorf("note %q", got)
	}
}

// TestBrowserPhoneWidth: at 375 px, in normal and large type, no page
// scrolls sideways and the controls keep their labels.
func TestBrowserPhoneWidth(t *testing.T) {
	a := servertest.Start(t)
	sched, _, s2, _ := bookingDay(t, a)
	c := a.NewCandidate(sched, map[string]any{"name": "欧阳娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜娜"})
	a.Must(201, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2}})
	tb := openTab(a, t, 375, 812)

	tb.open("/login", "login")
	tb.checkPage()
	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	for _, size := range []string{"normal", "large"} {
		for _, p := range []struct{ path, page string }{
			{"/candidate", "candidate_journey"}, {"/candidate/slots", "candidate_slots"},
			{"/candidate/bookings", "candidate_bookings"}, {"/candidate/priority", "candidate_lane"},
		} {
			tb.open(p.path+"?size="+size, p.page)
			if large := eval[bool](tb, `document.documentElement.classList.contains('large')`); large != (size == "large") {
				t.Errorf("%s size=%s: large=%v", p.path, size, large)
			}
			tb.checkPage()
		}
	}
}

// screenshotDir is the folder EXAMD_SCREENSHOTS names for the screenshot
// tests (`make screenshots`); without it they skip.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("EXAMD_SCREENSHOTS")
	if dir == "" {
		t.Skip("set EXAMD_SCREENSHOTS to the folder for the screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserScreenshots refreshes docs/screenshots: each candidate page at
// desktop (1280 px) and phone (375 px) width. It runs when
// EXAMD_SCREENSHOTS names the folder to write to (`make screenshots`).
func TestBrowserScreenshots(t *testing.T) {
	dir := screenshotDir(t)
	a := servertest.Start(t)
	sched, venue, s2, s3 := bookingDay(t, a)
	a.NewSlot(sched, venue, 4, 6, 9, nil)
	a.NewSlot(sched, venue, 2, 8, 8, map[string]any{"capacity": 1})
	c := a.NewCandidate(sched, map[string]any{"name": "王小明"})
	booked := a.Must(201, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2, s3}})
	slip := fmt.Sprintf("/candidate/bookings/%d", int64(booked.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64)))
	// A candidate whose permit ran out with subject 2 passed and subject 3
	// not (BK-PERMIT): the journey shows the pass void and what to do.
	lapsed := a.NewCandidate(sched, map[string]any{"name": "李娜",
		"subject1_passed_on": a.Day(-3*365 - 12).Format(time.DateOnly),
		"permit_issued_on":   a.Day(-3*365 - 10).Format(time.DateOnly),
		"permit_expires_on":  a.Day(-11).Format(time.DateOnly)})
	if _, err := a.DB.Exec(`INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by, status)
		VALUES ($1, $2, 2, $3, 'regular', $1, 'passed')`, lapsed.ID, s2, a.Day(-400)); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 375, 812}} {
		t.Run(w.name, func(t *testing.T) {
			tb := openTab(a, t, w.width, w.height)
			tb.open("/login", "login")
			tb.shoot(dir, "login-"+w.name+".png")
			tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
			for _, p := range []struct{ path, page, file string }{
				{"/candidate", "candidate_journey", "journey"},
				{"/candidate/slots", "candidate_slots", "slots"},
				{"/candidate/bookings", "candidate_bookings", "bookings"},
				{"/candidate/priority", "candidate_lane", "priority"},
				{slip, "candidate_slip", "slip"},
				{"/account/password", "account_password", "password"},
			} {
				tb.open(p.path, p.page)
				tb.shoot(dir, p.file+"-"+w.name+".png")
			}
			if w.name == "desktop" {
				tb.open(slip, "candidate_slip")
				tb.shootPrinted(dir, "slip-printed.png", a4)
			}
			tb.click(`form[action="/logout"] button`, `body[data-page="login"]`)
			tb.logIn(lapsed.IDNo, "candidate-pw", "candidate_journey")
			if got := tb.text("ol.subjects"); !strings.Contains(got, "成绩作废") {
				t.Errorf("the lapsed permit's journey shows %q, want the pass void (成绩作废)", got)
			}
			tb.shoot(dir, "journey-void-"+w.name+".png")
		})
	}
}

// shoot saves a full-page screenshot to dir/name.
func (tb *tab) shoot(dir, name string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// cutProxy forwards TCP connections to examd until cut: then it closes
// every connection and refuses new ones until restored, as a network drop
// would. It keeps what browsers sent, to see how they came back.
type cutProxy struct {
	t      *testing.T
	url    string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
	sent   bytes.Buffer
	target string
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &cutProxy{t: t, url: "http://" + ln.Addr().String(), conns: map[net.Conn]bool{}, target: strings.TrimPrefix(target, "http://")}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	p.mu.Lock()
	if err != nil || p.down {
		p.mu.Unlock()
		c.Close()
		if up != nil {
			up.Close()
		}
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() {
		io.Copy(c, up)
		c.Close()
	}()
	io.Copy(up, io.TeeReader(c, p))
	up.Close()
}

// Write keeps the first 1 MiB the browsers sent.
func (p *cutProxy) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sent.Len() < 1<<20 {
		p.sent.Write(b)
	}
	return len(b), nil
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func (p *cutProxy) requested() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent.String()
}
