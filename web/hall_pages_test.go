package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"examd/internal/server/servertest"
	"examd/scheduling"
)

// hallURL finds the hall screen's URL on the page that answered its creation.
var hallURL = regexp.MustCompile(`value="(http://[^"]+/hall/([A-Za-z0-9_-]{43}))"`)

// bookNamed puts a new candidate called name on slot today and returns them
// and the booking.
func bookNamed(t *testing.T, d *servertest.ExamDay, slot int64, name string) (servertest.Candidate, int64) {
	t.Helper()
	c := d.A.NewCandidate(d.Sched, map[string]any{"name": name})
	return c, d.BookAs(t, c, slot)
}

// newDisplay creates a display token for venue through the admin's page and
// returns the hall path (/hall/<token>) shown once.
func newDisplay(t *testing.T, b *browser, venue int64, label string) (path, token string) {
	t.Helper()
	b.get("/admin/displays")
	p := b.post("/admin/displays", url.Values{"venue_id": {fmt.Sprint(venue)}, "label": {label}})
	m := hallURL.FindStringSubmatch(p.Body)
	if p.Status != http.StatusCreated || m == nil {
		t.Fatalf("create display: %d\n%s", p.Status, p.Body)
	}
	u, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return u.Path, m[2]
}

// hallJSON is the board's data as hall.js reads it.
type hallJSON struct {
	Venue string `json:"venue"`
	Exams []struct {
		Name, Subject, Car, Item string
	} `json:"exams"`
	Results []struct {
		Key, Name, Subject, Verdict, Score, Say string
		Passed                                  bool
	} `json:"results"`
	Calls []struct {
		Key, Ticket, Desk, Text, Say string
		Served                       bool
	} `json:"calls"`
}

// TestWebDisplays: an admin creates a display token on their page, which
// shows its hall URL once (201, no-store, no redirect) and never again; the
// form needs its CSRF token and valid input; other roles get 403; a revoked
// token opens nothing.
func TestWebDisplays(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	b := newBrowser(a, t)
	b.logIn("admin", servertest.AdminPassword, "/admin/slots")

	p := b.get("/admin/displays")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `<option value="`+fmt.Sprint(d.Venue)+`">第一考场</option>`) {
		t.Fatalf("display page: %d\n%s", p.Status, p.Body)
	}

	t.Run("CSRF", func(t *testing.T) {
		p := b.post("/admin/displays", url.Values{"venue_id": {fmt.Sprint(d.Venue)}, "label": {"伪造"}, "_csrf": {"forged"}})
		if p.Status != http.StatusForbidden {
			t.Errorf("without the CSRF token: %d, want 403", p.Status)
		}
	})

	b.get("/admin/displays")
	p = b.post("/admin/displays", url.Values{"venue_id": {fmt.Sprint(d.Venue)}, "label": {"候考大厅 1号屏"}})
	m := hallURL.FindStringSubmatch(p.Body)
	if p.Status != http.StatusCreated || p.URL != "/admin/displays" || m == nil {
		t.Fatalf("create: %d at %s\n%s", p.Status, p.URL, p.Body)
	}
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	token := m[2]
	var stored int
	if err := a.DB.Get(&stored, `SELECT count(*) FROM display_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')) AND label = '候考大厅 1号屏'`, token); err != nil || stored != 1 {
		t.Fatalf("stored %d tokens by hash (%v), want 1", stored, err)
	}
	if n := strings.Count(p.Body, token); n != 1 {
		t.Errorf("the token shows %d times on the page, want once", n)
	}
	var audited int
	if err := a.DB.Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'display.token_issued' AND after::text NOT LIKE '%' || $1 || '%'`, token); err != nil || audited != 1 {
		t.Errorf("audit entries without the token: %d (%v), want 1", audited, err)
	}

	p = b.get("/admin/displays")
	if strings.Contains(p.Body, token) || !strings.Contains(p.Body, "候考大厅 1号屏") || !strings.Contains(p.Body, "使用中") {
		t.Errorf("the list after creation shows the token, or not the display:\n%s", p.Body)
	}
	h := newBrowser(a, t)
	if p := h.get("/hall/" + token); p.Status != http.StatusOK || !strings.Contains(p.Body, "第一考场") {
		t.Fatalf("hall page: %d\n%s", p.Status, p.Body)
	}

	t.Run("Invalid", func(t *testing.T) {
		for _, c := range []struct {
			form  url.Values
			field string
		}{
			{url.Values{"venue_id": {"999999"}, "label": {"屏"}}, "venue_id"},
			{url.Values{"venue_id": {"x"}, "label": {"屏"}}, "venue_id"},
			{url.Values{"venue_id": {fmt.Sprint(d.Venue)}, "label": {"  "}}, "label"},
			{url.Values{"venue_id": {fmt.Sprint(d.Venue)}, "label": {strings.Repeat("屏", 61)}}, "label"},
		} {
			b.get("/admin/displays")
			p := b.post("/admin/displays", c.form)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-`+c.field+`" role="alert"`) ||
				!regexp.MustCompile(`aria-describedby="[^"]*err-`+c.field+`[ "]`).MatchString(p.Body) || hallURL.MatchString(p.Body) {
				t.Errorf("%v: %d, want 422 with the message at %s\n%s", c.form, p.Status, c.field, p.Body)
			}
		}
	})

	t.Run("NotAdmin", func(t *testing.T) {
		for _, role := range []string{"scheduler", "issuer", "examiner"} {
			name := fmt.Sprintf("%s-d%d", role, servertest.Next())
			a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": name, "password": "staff-secret", "role": role, "venue_id": d.Venue})
			o := newBrowser(a, t)
			o.logIn(name, "staff-secret", "")
			if p := o.get("/admin/displays"); p.Status != http.StatusForbidden || strings.Contains(p.Body, "候考大厅 1号屏") {
				t.Errorf("%s: %d, want 403", role, p.Status)
			}
		}
	})

	t.Run("Revoke", func(t *testing.T) {
		var id int64
		if err := a.DB.Get(&id, `SELECT id FROM display_tokens WHERE label = '候考大厅 1号屏'`); err != nil {
			t.Fatal(err)
		}
		b.get("/admin/displays")
		if p := b.post(fmt.Sprintf("/admin/displays/%d/revoke", id), url.Values{"_csrf": {"forged"}}); p.Status != http.StatusForbidden {
			t.Errorf("revoke without the CSRF token: %d", p.Status)
		}
		b.get("/admin/displays")
		p := b.post(fmt.Sprintf("/admin/displays/%d/revoke", id), nil)
		if p.URL != "/admin/displays?done=display_revoked" || !strings.Contains(p.Body, "已停用该大厅屏") ||
			!strings.Contains(rowOf(p.Body, fmt.Sprintf("display-%d", id)), "已停用（") {
			t.Errorf("revoke: %d at %s\n%s", p.Status, p.URL, p.Body)
		}
		for _, path := range []string{"/hall/" + token, "/hall/" + token + "/board"} {
			if p := h.get(path); p.Status != http.StatusNotFound {
				t.Errorf("%s after revocation: %d, want 404", path, p.Status)
			}
		}
		if p := h.get("/hall/" + token); !strings.Contains(p.Body, "该大厅屏地址无效或已停用") || !strings.Contains(p.Body, `lang="zh-CN"`) {
			t.Errorf("revoked page:\n%s", p.Body)
		}
		b.get("/admin/displays")
		if p := b.post(fmt.Sprintf("/admin/displays/%d/revoke", id), nil); p.Status != http.StatusConflict ||
			!strings.Contains(p.Body, `id="err-display-`+fmt.Sprint(id)+`" role="alert"`) {
			t.Errorf("revoking twice: %d\n%s", p.Status, p.Body)
		}
		var n int
		if err := a.DB.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'display.revoked' AND subject = $1`, fmt.Sprintf("display:%d", id)); err != nil || n != 1 {
			t.Errorf("revocations audited: %d (%v), want 1", n, err)
		}
	})

	t.Run("Unknown", func(t *testing.T) {
		for _, path := range []string{"/hall/nosuchtoken", "/hall/" + strings.Repeat("A", 43) + "/board", "/hall/%3Cscript%3E"} {
			if p := h.get(path); p.Status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, p.Status)
			}
		}
	})
}

// TestWebHallBoard: the board's page and JSON show the venue's exams under
// way (masked name, subject, item), its results (合格/不合格, score) and the
// desk's calls, and nothing else of a person: no full name, no ID number,
// masked or not, no candidate or booking id; they are not cached.
func TestWebHallBoard(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	admin := newBrowser(a, t)
	admin.logIn("admin", servertest.AdminPassword, "/admin/slots")
	path, _ := newDisplay(t, admin, h.Venue, "候考大厅 1号屏")

	driving, b1 := bookNamed(t, h.ExamDay, h.Slot, "张三丰")
	failing, b2 := bookNamed(t, h.ExamDay, h.Slot3, "李小龙")
	h.Post(h.Device, b1, "exam_started", nil)
	h.Post(h.Device, b1, "item_started", map[string]any{"item": "hill_start"})
	car2 := h.NewDevice(t, h.Venue) // one exam at a time per car (ED-ATTEMPT)
	h.Post(car2, b2, "exam_started", nil)
	h.Post(car2, b2, "deduction", map[string]any{"rule": "S3.HANDS_OFF"})
	ready := h.Ready(t)
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/issuance/%d/call", ready.ID), h.Issuer, nil)

	v := newBrowser(a, t)
	board := v.get(path + "/board")
	if board.Status != http.StatusOK || board.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("board: %d %v\n%s", board.Status, board.Header, board.Body)
	}
	var got hallJSON
	if err := json.Unmarshal([]byte(board.Body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Venue != "第一考场" || len(got.Exams) != 1 || got.Exams[0].Name != "张**" || got.Exams[0].Subject != "科目二" ||
		got.Exams[0].Item != "坡道定点停车和起步" || got.Exams[0].Car != "考试车 3号" {
		t.Errorf("exams: %+v", got)
	}
	// The ready candidate's three passes, then 李小龙's fail, latest first.
	if len(got.Results) != 4 {
		t.Fatalf("results: %+v", got.Results)
	}
	var fail *struct {
		Key, Name, Subject, Verdict, Score, Say string
		Passed                                  bool
	}
	for i := range got.Results {
		if got.Results[i].Name == "李**" {
			fail = &got.Results[i]
		}
	}
	if fail == nil || fail.Subject != "科目三" || fail.Verdict != "不合格" || fail.Passed || fail.Score != "0 分" ||
		fail.Say != "李**，科目三，不合格，0 分" {
		t.Errorf("the failed result: %+v", fail)
	}
	if r := got.Results[0]; r.Subject != "科目四" || r.Verdict != "合格" || !r.Passed || r.Score != "95 分" {
		t.Errorf("latest result %+v, want the theory pass", r)
	}
	ticket := h.InQueue(t, ready)["ticket"].(string)
	if len(got.Calls) != 1 || got.Calls[0].Ticket != ticket || got.Calls[0].Desk != "3号窗口" ||
		got.Calls[0].Text != "请 "+ticket+" 号到 3 号窗口办理" {
		t.Errorf("calls: %+v", got.Calls)
	}

	page := v.get(path)
	if page.Status != http.StatusOK || page.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("page: %d", page.Status)
	}
	for _, want := range []string{"张**", "李**", "坡道定点停车和起步", "不合格", ticket, "请 " + ticket + " 号到 3 号窗口办理",
		`role="status" aria-live="polite"`, `<script src="/static/hall.js" defer></script>`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page.Body, "/logout") || strings.Contains(page.Body, `name="_csrf"`) {
		t.Errorf("the hall page shows the staff's logout form")
	}
	if strings.Contains(page.Body, "<header") || strings.Contains(page.Body, "<footer") || strings.Contains(page.Body, "<nav") {
		t.Errorf("the hall page is a kiosk: no site header, nav or footer")
	}
	if got.Calls[0].Say != got.Calls[0].Text || got.Calls[0].Served || !strings.Contains(page.Body, `id="calling-empty" hidden`) {
		t.Errorf("the call, not served yet: %+v", got.Calls[0])
	}

	t.Run("Sound", func(t *testing.T) {
		for query, want := range map[string]string{
			"":                       `data-volume="1" data-repeat="2"`,
			"?volume=0.8&repeat=3":   `data-volume="0.8" data-repeat="3"`,
			"?volume=0&repeat=1":     `data-volume="0" data-repeat="1"`,
			"?volume=1.5&repeat=9":   `data-volume="1" data-repeat="2"`,
			"?volume=-1&repeat=zwei": `data-volume="1" data-repeat="2"`,
		} {
			if p := v.get(path + query); !strings.Contains(p.Body, want) {
				t.Errorf("%q: the page lacks %s", query, want)
			}
		}
	})

	t.Run("Served", func(t *testing.T) {
		// The desk's first step for the ticket serves the call: it stays in
		// the history, no longer "now calling".
		if r := h.Step(ready, "accept"); r.Status != http.StatusOK {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		var after hallJSON
		if err := json.Unmarshal([]byte(v.get(path+"/board").Body), &after); err != nil {
			t.Fatal(err)
		}
		if len(after.Calls) != 1 || !after.Calls[0].Served {
			t.Errorf("after the step: %+v", after.Calls)
		}
		if p := v.get(path); !strings.Contains(p.Body, `id="calling-empty">`) || !strings.Contains(p.Body, `class="served"`) {
			t.Errorf("the page shows the served call as now calling")
		}
	})

	t.Run("NothingPersonal", func(t *testing.T) {
		var ids []string
		for _, c := range []servertest.Candidate{driving, failing, ready} {
			ids = append(ids, c.IDNo, scheduling.MaskIDNumber(c.IDNo), c.IDNo[len(c.IDNo)-4:])
		}
		for name, body := range map[string]string{"page": page.Body, "board": board.Body} {
			for _, s := range append(ids, "张三丰", "李小龙", "三丰", "小龙", "candidate", "booking", "id_number") {
				if strings.Contains(body, s) {
					t.Errorf("the %s shows %q", name, s)
				}
			}
		}
	})

	t.Run("OnlyWhatTheBoardShows", func(t *testing.T) {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(board.Body), &raw); err != nil {
			t.Fatal(err)
		}
		if k := keysOf(t, raw); k != "calls clock date exams now results venue" {
			t.Errorf("board keys: %s", k)
		}
		for list, want := range map[string]string{
			"exams": "car item name subject", "results": "key name passed say score subject verdict", "calls": "desk key say served text ticket",
		} {
			var items []map[string]json.RawMessage
			if err := json.Unmarshal(raw[list], &items); err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if k := keysOf(t, it); k != want {
					t.Errorf("%s keys: %s, want %s", list, k, want)
				}
			}
		}
	})

	t.Run("English", func(t *testing.T) {
		e := newBrowser(a, t)
		var got hallJSON
		p := e.get(path+"/board", "Accept-Language", "en")
		if err := json.Unmarshal([]byte(p.Body), &got); err != nil {
			t.Fatal(err)
		}
		if p := e.get(path + "?lang=en"); p.URL != path || !strings.Contains(p.Body, "Waiting hall") || !strings.Contains(p.Body, `lang="en"`) {
			t.Errorf("the language switch on the hall page: at %s\n%s", p.URL, p.Body)
		}
		if got.Exams[0].Subject != "Subject 2" || got.Exams[0].Item != "Hill stop and start" ||
			got.Calls[0].Text != "Number "+ticket+", please go to window 3" || got.Calls[0].Say != "请 "+ticket+" 号到 3 号窗口办理" {
			t.Errorf("English board: %+v", got)
		}
	})
}

// keysOf lists a JSON object's keys, sorted, joined by spaces.
func keysOf(t *testing.T, m map[string]json.RawMessage) string {
	t.Helper()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, " ")
}
