package web_test

import (
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// deskUser creates a staff account with role (and desk, for an issuer)
// and returns its username; the password is "desk-secret".
func deskUser(t *testing.T, a *servertest.App, role, desk string) string {
	t.Helper()
	name := fmt.Sprintf("desk%s%d", role, servertest.Next())
	body := map[string]any{"username": name, "password": "desk-secret", "role": role}
	if desk != "" {
		body["desk"] = desk
	}
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, body)
	return name
}

// readyAs takes a new candidate named name through subjects 2, 3 and 4,
// every sheet signed, on the priority lane when lane is set: they join the
// issuance queue.
func readyAs(t *testing.T, h *servertest.Hall, name string, lane bool) servertest.Candidate {
	t.Helper()
	c, b2, b3, b4 := h.Combined(t)
	if _, err := h.A.DB.Exec(`UPDATE candidates SET name = $2 WHERE id = $1`, c.ID, name); err != nil {
		t.Fatal(err)
	}
	if lane {
		h.A.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", c.ID), h.Sched,
			map[string]any{"reason": "disability", "needs": []string{}, "note": ""})
	}
	for _, at := range []int64{h.Pass(t, b2, 2), h.Pass(t, b3, 3), h.Pass(t, b4, 4)} {
		h.Sign(t, at, "examiner", "candidate")
	}
	if h.InQueue(t, c) == nil {
		t.Fatalf("candidate %d is not in the queue", c.ID)
	}
	return c
}

// logInTo logs the browser in through the login form and follows it to next.
func (b *browser) logInTo(user, password, next string) webPage {
	b.t.Helper()
	b.get("/login")
	p := b.post("/login", url.Values{"username": {user}, "password": {password}, "next": {next}})
	if p.URL != next {
		b.t.Fatalf("log in as %s: %d at %s, want %s\n%s", user, p.Status, p.URL, next, p.Body)
	}
	return p
}

// tableRow returns the HTML of the table row with id, "" when there is none.
func tableRow(body, id string) string {
	start := strings.Index(body, `<tr id="`+id+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(body[start:], "</tr>")
	if end < 0 {
		return body[start:]
	}
	return body[start : start+end]
}

// TestWebDesk: the issuer's queue of today, the steps in order only (a
// refusal in Chinese next to the row's buttons, nothing changed), CSRF on
// every form, the licence after printing, the roles, the live feed behind
// the session cookie, and the day's report.
func TestWebDesk(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	issuer := deskUser(t, a, "issuer", "3号窗口")
	c := readyAs(t, h, "王小明", false)
	row := fmt.Sprintf("cand-%d", c.ID)
	b := newBrowser(a, t)
	p := b.logInTo(issuer, "desk-secret", "/desk")

	r := tableRow(p.Body, row)
	for _, want := range []string{"A001", "王小明", "C1", "等待叫号", fmt.Sprintf(`action="/desk/%d/call"`, c.ID), ">叫号</button>", ">预受理</button>"} {
		if !strings.Contains(r, want) {
			t.Errorf("queue row lacks %q:\n%s", want, r)
		}
	}
	if !strings.Contains(p.Body, `id="my-desk">3号窗口<`) {
		t.Errorf("the page does not name the issuer's desk")
	}
	step := func(s string) url.Values {
		switch s {
		case "accept":
			return url.Values{"step": {s}, "checklist": {"id_card", "photo", "medical"}}
		case "review_fee":
			return url.Values{"step": {s}, "payment_method": {"card"}, "receipt_number": {"POS-0042"}}
		}
		return url.Values{"step": {s}}
	}
	stepOf := func() string { t.Helper(); return fmt.Sprint(h.InQueue(t, c)["step"]) }

	t.Run("OrderEnforced", func(t *testing.T) {
		for _, s := range []string{"print", "review_fee"} {
			p := b.post(fmt.Sprintf("/desk/%d/step", c.ID), step(s))
			r := tableRow(p.Body, row)
			if p.Status != http.StatusConflict || !strings.Contains(r, `id="err-`+row+`" role="alert" data-code="invalid_step">办理须按预受理、审核缴费、制证的顺序进行`) {
				t.Errorf("%s first: %d\n%s", s, p.Status, r)
			}
			if !strings.Contains(r, `aria-describedby="tk-`+row+` nm-`+row+` err-`+row+`"`) {
				t.Errorf("%s first: the buttons do not name the refusal\n%s", s, r)
			}
		}
		if p := b.post(fmt.Sprintf("/desk/%d/step", c.ID), step("sign")); p.Status != http.StatusUnprocessableEntity ||
			!strings.Contains(tableRow(p.Body, row), "无法办理该操作，请刷新页面后重试。") {
			t.Errorf("an unknown step: %d", p.Status)
		}
		if got := stepOf(); got != "ready" {
			t.Errorf("after refusals the candidate is at %s, want ready", got)
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		for _, path := range []string{fmt.Sprintf("/desk/%d/call", c.ID), fmt.Sprintf("/desk/%d/step", c.ID)} {
			p := b.post(path, url.Values{"_csrf": {"not-the-token"}, "step": {"accept"}})
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "页面已过期") {
				t.Errorf("%s without the token: %d", path, p.Status)
			}
		}
		b.get("/desk")
		if got := stepOf(); got != "ready" {
			t.Errorf("after forged forms the candidate is at %s, want ready", got)
		}
		var called bool
		if err := a.DB.Get(&called, `SELECT called_at IS NOT NULL FROM issuances WHERE candidate_id = $1`, c.ID); err != nil || called {
			t.Errorf("a forged call was recorded (%v)", err)
		}
	})

	t.Run("ThreeSteps", func(t *testing.T) {
		p := b.post(fmt.Sprintf("/desk/%d/call", c.ID), nil)
		r := tableRow(p.Body, row)
		if p.URL != "/desk?done=desk_called" || !strings.Contains(p.Body, "<p>已叫号。</p>") || !strings.Contains(r, "3号窗口") || !strings.Contains(r, "已叫号") ||
			!strings.Contains(r, ">重新叫号</button>") {
			t.Fatalf("call: %d at %s\n%s", p.Status, p.URL, r)
		}
		t.Run("ChecklistIncomplete", func(t *testing.T) {
			p := b.post(fmt.Sprintf("/desk/%d/step", c.ID), url.Values{"step": {"accept"}, "checklist": {"photo"}})
			r := tableRow(p.Body, row)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(r, `data-code="checklist_incomplete">不能预受理，以下材料未勾选：身份证、体检证明</p>`) {
				t.Errorf("accept with the photo only: %d\n%s", p.Status, r)
			}
			if !strings.Contains(r, `value="photo" checked>`) || strings.Contains(r, `value="id_card" checked>`) {
				t.Errorf("the form does not keep what was ticked:\n%s", r)
			}
			if got := stepOf(); got != "ready" {
				t.Errorf("after the refusal the candidate is at %s, want ready", got)
			}
		})
		p = b.post(fmt.Sprintf("/desk/%d/step", c.ID), step("accept"))
		if r := tableRow(p.Body, row); p.URL != fmt.Sprintf("/desk?done=desk_accept&cand=%d", c.ID) || !strings.Contains(r, "已预受理") || !strings.Contains(r, ">审核缴费（10 元）</button>") ||
			!strings.Contains(p.Body, "已为 A001 王小明 完成预受理") {
			t.Fatalf("accept: at %s\n%s", p.URL, r)
		}
		t.Run("PaymentMissing", func(t *testing.T) {
			p := b.post(fmt.Sprintf("/desk/%d/step", c.ID), url.Values{"step": {"review_fee"}, "receipt_number": {"bad number!"}})
			r := tableRow(p.Body, row)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(r, `id="err-pm-`+row+`" role="alert">请选择缴费方式。`) ||
				!strings.Contains(r, `id="err-rn-`+row+`" role="alert">请填写收据号`) || !strings.Contains(r, `value="bad number!"`) {
				t.Errorf("review_fee without a method and with a bad number: %d\n%s", p.Status, r)
			}
			if got := stepOf(); got != "accepted" {
				t.Errorf("after the refusal the candidate is at %s, want accepted", got)
			}
		})
		p = b.post(fmt.Sprintf("/desk/%d/step", c.ID), step("review_fee"))
		if r := tableRow(p.Body, row); !strings.Contains(r, "已审核缴费") || !strings.Contains(r, ">制证</button>") || !strings.Contains(p.Body, "已为 A001 王小明 完成审核缴费") {
			t.Fatalf("review_fee: at %s\n%s", p.URL, r)
		}
		p = b.post(fmt.Sprintf("/desk/%d/step", c.ID), step("print"))
		if p.URL != fmt.Sprintf("/desk?done=desk_print&issued=%d", c.ID) || !strings.Contains(p.Body, `<dd id="licence-number">`+c.IDNo+`</dd>`) ||
			!regexp.MustCompile(`<dd id="file-number">[0-9]{12}</dd>`).MatchString(p.Body) ||
			!strings.Contains(p.Body, a.Day(0).AddDate(6, 0, 0).Format(time.DateOnly)) || !strings.Contains(p.Body, "驾驶证已制证") {
			t.Fatalf("print: at %s\n%s", p.URL, p.Body)
		}
		if strings.Contains(p.Body, `id="`+row+`"`) || !strings.Contains(p.Body, `id="served-toggle">显示已办结（1 人）</a>`) {
			t.Errorf("the served candidate is not hidden from the queue:\n%s", p.Body)
		}
		p = b.get("/desk?served=1")
		if r := tableRow(p.Body, row); !strings.Contains(r, "已制证") || strings.Contains(r, "<button") || !strings.Contains(p.Body, `id="served-toggle">隐藏已办结</a>`) {
			t.Errorf("?served=1: the issued row is missing or still offers an action:\n%s", r)
		}
		for _, path := range []string{fmt.Sprintf("/desk/%d/step", c.ID), fmt.Sprintf("/desk/%d/call", c.ID)} {
			p := b.post(path, step("print"))
			if p.Status != http.StatusConflict || !strings.Contains(tableRow(p.Body, row), "该考生的驾驶证已制证，不能再次办理。") {
				t.Errorf("%s after printing: %d", path, p.Status)
			}
		}
		var desks string
		if err := a.DB.Get(&desks, `SELECT concat_ws(',', called_desk, accepted_desk, reviewed_desk, issued_desk) FROM issuances WHERE candidate_id = $1`, c.ID); err != nil ||
			desks != "3号窗口,3号窗口,3号窗口,3号窗口" {
			t.Errorf("desks recorded %q (%v)", desks, err)
		}
	})

	t.Run("NotReady", func(t *testing.T) {
		other := a.NewCandidate(h.Sched, nil)
		p := b.post(fmt.Sprintf("/desk/%d/step", other.ID), step("accept"))
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, `data-code="not_ready">该考生尚未具备领证条件`) {
			t.Errorf("a candidate who is not ready: %d", p.Status)
		}
		if p := b.post("/desk/abc/call", nil); p.Status != http.StatusNotFound {
			t.Errorf("a malformed id: %d, want 404", p.Status)
		}
	})

	t.Run("Fragment", func(t *testing.T) {
		p := b.get("/desk?part=queue&served=1") // A001 is served by now
		if p.Status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(p.Body), `<section id="queue"`) || strings.Contains(p.Body, "<html") ||
			!strings.Contains(p.Body, "A001") {
			t.Errorf("the queue's part: %d\n%s", p.Status, p.Body)
		}
	})

	t.Run("Escaping", func(t *testing.T) {
		evil := readyAs(t, h, `<script>alert(1)</script>`, false)
		p := b.get("/desk")
		r := tableRow(p.Body, fmt.Sprintf("cand-%d", evil.ID))
		if !strings.Contains(r, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(p.Body, "<script>alert") {
			t.Errorf("the name is not escaped:\n%s", r)
		}
	})

	t.Run("Live", func(t *testing.T) {
		u := strings.Replace(a.URL, "http://", "ws://", 1) + "/desk/live?since=0"
		cookies := func(b *browser) http.Header {
			hd := http.Header{"Origin": {a.URL}}
			for _, ck := range b.c.Jar.Cookies(mustURL(t, a.URL)) {
				hd.Add("Cookie", ck.Name+"="+ck.Value)
			}
			return hd
		}
		conn, _, err := websocket.DefaultDialer.Dial(u, cookies(b))
		if err != nil {
			t.Fatalf("the issuer's live feed: %v", err)
		}
		defer conn.Close()
		feed := servertest.ScreenOf(t, conn)
		if m := feed.Next(); m["type"] != "hello" {
			t.Fatalf("first message %v", m)
		}
		if m := feed.Next(); m["type"] != "ready" || m["ticket"] != "A001" || m["name"] != "王**" {
			t.Errorf("first event replayed %v", m)
		}
		if _, res, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {a.URL}}); err == nil || res == nil || res.StatusCode != http.StatusSeeOther {
			t.Errorf("the feed without a session: %v %v", res, err)
		}
		other := cookies(b)
		other.Set("Origin", "http://evil.example")
		if _, res, err := websocket.DefaultDialer.Dial(u, other); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("the feed from another site: %v %v", res, err)
		}
	})

	t.Run("Roles", func(t *testing.T) {
		cand := newBrowser(a, t)
		cand.logInTo(c.IDNo, "candidate-pw", "/candidate")
		exam := newBrowser(a, t)
		exam.logInTo(deskUser(t, a, "examiner", ""), "desk-secret", "/examiner")
		for who, x := range map[string]*browser{"candidate": cand, "examiner": exam} {
			for _, path := range []string{"/desk", "/desk/report", "/desk?part=queue"} {
				if p := x.get(path); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "您没有权限查看此页面") {
					t.Errorf("%s on %s: %d", who, path, p.Status)
				}
			}
			if p := x.post(fmt.Sprintf("/desk/%d/call", c.ID), nil); p.Status != http.StatusForbidden {
				t.Errorf("%s calls: %d", who, p.Status)
			}
		}
		admin := newBrowser(a, t)
		p := admin.logInTo("admin", servertest.AdminPassword, "/admin/slots")
		p = admin.get("/desk?served=1") // A001 is served by now
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "A001") || strings.Contains(p.Body, "/call\"") || !strings.Contains(p.Body, "叫号和办理由制证窗口工作人员操作") {
			t.Errorf("the admin's desk page: %d\n%s", p.Status, p.Body)
		}
		if p := admin.post(fmt.Sprintf("/desk/%d/call", c.ID), nil); p.Status != http.StatusForbidden {
			t.Errorf("the admin calls: %d, want 403 as on the API", p.Status)
		}
		sched := newBrowser(a, t)
		sched.logInTo(deskUser(t, a, "scheduler", ""), "desk-secret", "/admin/slots")
		if p := sched.get("/desk"); p.Status != http.StatusForbidden {
			t.Errorf("a scheduler on /desk: %d", p.Status)
		}
		if p := sched.get("/desk/report"); p.Status != http.StatusOK {
			t.Errorf("a scheduler on the report: %d", p.Status)
		}
	})

	t.Run("Report", func(t *testing.T) {
		p := b.get("/desk/report")
		for _, want := range []string{`<h1>当日报表</h1>`, `value="` + a.Day(0).Format(time.DateOnly) + `"`, `<dd id="r-issued">1</dd>`,
			`<dd id="r-ready">2</dd>`, `<dd id="r-rate">50.0%</dd>`, `<th scope="row">科目二</th>`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("today's report lacks %q", want)
			}
		}
		if p := b.get("/desk/report?day=2025-02-30"); p.Status != http.StatusUnprocessableEntity ||
			!strings.Contains(p.Body, `id="err-day" role="alert">请填写有效日期`) || !strings.Contains(p.Body, `aria-invalid="true"`) {
			t.Errorf("a bad day: %d", p.Status)
		}
		if p := b.get("/desk/report?day=2020-01-01"); p.Status != http.StatusOK || !strings.Contains(p.Body, "当天没有考试。") ||
			!strings.Contains(p.Body, `<dd id="r-issued">0</dd>`) {
			t.Errorf("a quiet day: %d", p.Status)
		}
	})

	t.Run("English", func(t *testing.T) {
		p := b.get("/desk?lang=en")
		if !strings.Contains(p.Body, `<html lang="en"`) || !strings.Contains(p.Body, "<h1>Issuing desk</h1>") || !strings.Contains(p.Body, "Licence queue of") {
			t.Errorf("the desk in English:\n%s", p.Body)
		}
		if p := b.get("/desk/report"); !strings.Contains(p.Body, "<h1>Daily report</h1>") || !strings.Contains(p.Body, "<th scope=\"row\">Subject 2</th>") {
			t.Errorf("the report in English:\n%s", p.Body)
		}
		b.get("/desk?lang=zh-CN")
	})
}
