package web_test

import (
	"examd/internal/server/servertest"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser is a plain HTTP client that keeps cookies and sends forms the way a
// browser without Sec-Fetch-Site does, so that the CSRF token itself is checked.
type browser struct {
	t    *testing.T
	a    *servertest.App
	c    *http.Client
	csrf string // the token of the last page's forms
}

func newBrowser(a *servertest.App, t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, a: a, c: &http.Client{Jar: jar}}
}

// webPage is an answer of a page, after redirects.
type webPage struct {
	Status int
	URL    string // the path and query the browser ended on
	Body   string
	Header http.Header
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

func (b *browser) do(req *http.Request) webPage {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := webPage{Status: res.StatusCode, URL: res.Request.URL.RequestURI(), Body: string(body), Header: res.Header}
	if m := csrfInput.FindStringSubmatch(p.Body); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	return p
}

// get fetches a page with header (name, value, ...).
func (b *browser) get(path string, header ...string) webPage {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.a.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// post sends a form with the last page's CSRF token.
func (b *browser) post(path string, form url.Values, header ...string) webPage {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("_csrf") {
		form.Set("_csrf", b.csrf)
	}
	req, err := http.NewRequest("POST", b.a.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// logIn logs in through the login form and fails unless it lands on want
// (anywhere, when want is "").
func (b *browser) logIn(user, password, want string) webPage {
	b.t.Helper()
	b.get("/login")
	p := b.post("/login", url.Values{"username": {user}, "password": {password}})
	if p.Status != http.StatusOK || want != "" && p.URL != want {
		b.t.Fatalf("log in as %s: %d at %s, want 200 at %s\n%s", user, p.Status, p.URL, want, p.Body)
	}
	return p
}

// rowOf returns the HTML of the list item with id, "" when there is none.
func rowOf(body, id string) string {
	start := strings.Index(body, `id="`+id+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(body[start:], "</li>\n")
	if end < 0 {
		return body[start:]
	}
	return body[start : start+end]
}

// TestWebSession: pages need a session; the login form opens one in an
// HttpOnly, SameSite=Lax cookie (Secure only when configured) holding an API
// token, and logging out revokes it.
func TestWebSession(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	c := a.NewCandidate(sched, nil)
	b := newBrowser(a, t)

	p := b.get("/candidate/slots?subject=2")
	if p.URL != "/login?next=%2Fcandidate%2Fslots%3Fsubject%3D2" || p.Status != http.StatusOK {
		t.Fatalf("without a session: %d at %s, want the login page", p.Status, p.URL)
	}
	if !strings.Contains(p.Body, `<html lang="zh-CN"`) || !strings.Contains(p.Body, "身份证号码") {
		t.Errorf("login page is not in Chinese:\n%s", p.Body)
	}

	t.Run("WrongPassword", func(t *testing.T) {
		p := b.post("/login", url.Values{"username": {c.IDNo}, "password": {"wrong-password"}})
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, `role="alert">身份证号码（用户名）或密码错误`) {
			t.Errorf("got %d\n%s", p.Status, p.Body)
		}
	})

	t.Run("Cookie", func(t *testing.T) {
		for _, secure := range []bool{false, true} {
			a := a
			if secure {
				a = servertest.StartOn(t, a.DB, a.DBURL, "EXAMD_COOKIE_SECURE", "true")
			}
			// Secure cookies are __Host- cookies: Secure, Path=/, no Domain,
			// so that no sibling site or plain-HTTP page can plant them.
			prefix := ""
			if secure {
				prefix = "__Host-"
			}
			b := newBrowser(a, t)
			login := b.get("/login")
			pre := (&http.Response{Header: login.Header}).Cookies()
			if len(pre) != 1 || pre[0].Name != prefix+"examd_csrf" || !pre[0].HttpOnly || pre[0].Secure != secure || pre[0].Path != "/" || pre[0].Domain != "" {
				t.Errorf("secure=%v: the login form's cookies %+v, want %sexamd_csrf alone", secure, pre, prefix)
			}
			b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			p := b.post("/login", url.Values{"username": {strings.ToLower(c.IDNo)}, "password": {"candidate-pw"}})
			if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/candidate" {
				t.Fatalf("login: %d to %q", p.Status, p.Header.Get("Location"))
			}
			var session *http.Cookie
			for _, ck := range (&http.Response{Header: p.Header}).Cookies() {
				switch ck.Name {
				case prefix + "examd_session":
					session = ck
				case prefix + "examd_csrf":
					if ck.MaxAge >= 0 {
						t.Errorf("secure=%v: the login form's cookie is kept after login: %+v", secure, ck)
					}
				default:
					t.Errorf("secure=%v: cookie %s", secure, ck.Name)
				}
			}
			if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != secure || session.Path != "/" || session.Domain != "" {
				t.Fatalf("secure=%v: session cookie %+v", secure, session)
			}
			// The cookie holds an API token: the same session, whichever door.
			if r := a.Do("GET", "/api/v1/me/bookings", session.Value, nil); r.Status != http.StatusOK {
				t.Errorf("the cookie's token on the API: %d", r.Status)
			}
		}
	})

	p = b.post("/login", url.Values{"username": {c.IDNo}, "password": {"candidate-pw"}, "next": {"/candidate/slots?subject=2"}})
	if p.URL != "/candidate/slots?subject=2" {
		t.Fatalf("login went to %s, want back to the page asked for", p.URL)
	}
	token := ""
	u, _ := url.Parse(a.URL)
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == "examd_session" {
			token = ck.Value
		}
	}
	p = b.post("/logout", nil)
	if p.URL != "/login?done=logged_out" || !strings.Contains(p.Body, "您已退出登录") {
		t.Errorf("logout: at %s\n%s", p.URL, p.Body)
	}
	if r := a.Do("GET", "/api/v1/me/bookings", token, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("token after logout: %d, want 401", r.Status)
	}
	if p := b.get("/candidate"); !strings.HasPrefix(p.URL, "/login") {
		t.Errorf("after logout /candidate ends at %s", p.URL)
	}

	t.Run("OpenRedirect", func(t *testing.T) {
		b := newBrowser(a, t)
		b.get("/login")
		p := b.post("/login", url.Values{"username": {c.IDNo}, "password": {"candidate-pw"}, "next": {"//evil.example/x"}})
		if p.URL != "/candidate" {
			t.Errorf("next=//evil.example: ended at %s", p.URL)
		}
	})

	t.Run("Staff", func(t *testing.T) {
		if _, err := a.DB.Exec(`INSERT INTO users (username, password_hash, role)
			SELECT 'web-sched', password_hash, 'scheduler' FROM users WHERE username = 'admin'`); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(a, t)
		p := b.logIn("web-sched", servertest.AdminPassword, "/admin/slots")
		if !strings.Contains(p.Body, `data-page="admin_slots"`) {
			t.Errorf("a scheduler's first page:\n%s", p.Body)
		}
		if p := b.get("/"); p.URL != "/admin/slots" {
			t.Errorf("/ sent a scheduler to %s", p.URL)
		}
		if p := b.get("/candidate"); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "您没有权限查看此页面") {
			t.Errorf("a scheduler on /candidate: %d\n%s", p.Status, p.Body)
		}
	})
}

// TestWebCSRF: every page form needs the CSRF token of its cookie, a
// cross-site form is refused, and the JSON API (bearer tokens) has no CSRF.
func TestWebCSRF(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	c := a.NewCandidate(sched, nil)
	b := newBrowser(a, t)
	b.get("/login")
	for name, tc := range map[string]struct {
		form   url.Values
		header []string
		want   int
	}{
		"Missing":   {url.Values{"_csrf": {""}}, nil, http.StatusForbidden},
		"Wrong":     {url.Values{"_csrf": {"not-the-token"}}, nil, http.StatusForbidden},
		"CrossSite": {url.Values{}, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
	} {
		tc.form.Set("username", c.IDNo)
		tc.form.Set("password", "candidate-pw")
		p := b.post("/login", tc.form, tc.header...)
		if p.Status != tc.want || p.URL != "/login" || !strings.Contains(p.Body, "<html") {
			t.Errorf("%s: %d at %s, want an HTML %d\n%s", name, p.Status, p.URL, tc.want, p.Body)
		}
	}
	b.get("/login")
	if p := b.post("/login", url.Values{"username": {c.IDNo}, "password": {"candidate-pw"}}, "Sec-Fetch-Site", "same-origin"); p.URL != "/candidate" {
		t.Errorf("same-origin login ended at %s", p.URL)
	}
	for _, ck := range b.c.Jar.Cookies(mustURL(t, a.URL)) {
		if ck.Name == "examd_csrf" && ck.Value == "" {
			t.Errorf("empty CSRF cookie")
		}
	}
	// The API takes no CSRF token: it authenticates with bearer tokens only,
	// and a page's session cookie is no API credential.
	a.Must(http.StatusOK, "POST", "/api/v1/login", "", map[string]any{"username": c.IDNo, "password": "candidate-pw"})
	req, _ := http.NewRequest("GET", a.URL+"/api/v1/me/bookings", nil)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API with the session cookie and no bearer token: %d, want 401", res.StatusCode)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestWebLanguage: Chinese by default, English from Accept-Language, and the
// switch's cookie over both.
func TestWebLanguage(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	b := newBrowser(a, t)
	for _, tc := range []struct{ accept, want string }{
		{"", "zh-CN"}, {"en-GB,en;q=0.9", "en"}, {"fr-FR, en;q=0.5, zh-TW;q=0.8", "zh-CN"}, {"de", "zh-CN"},
	} {
		p := b.get("/login", "Accept-Language", tc.accept)
		if !strings.Contains(p.Body, `<html lang="`+tc.want+`"`) || p.Header.Get("Content-Language") != tc.want {
			t.Errorf("Accept-Language %q: want %s, got Content-Language %q", tc.accept, tc.want, p.Header.Get("Content-Language"))
		}
	}
	p := b.get("/login?next=%2Fcandidate&lang=en")
	if p.URL != "/login?next=%2Fcandidate" || !strings.Contains(p.Body, `<html lang="en"`) || !strings.Contains(p.Body, "ID number or username") {
		t.Fatalf("switch to English: at %s\n%s", p.URL, p.Body)
	}
	if p := b.get("/login", "Accept-Language", "zh-CN"); !strings.Contains(p.Body, `<html lang="en"`) {
		t.Errorf("the switch's cookie does not win over Accept-Language")
	}
	if p := b.get("/login?size=large"); !strings.Contains(p.Body, `<html lang="en" class="large"`) {
		t.Errorf("large type not kept:\n%s", p.Body)
	}
}

// TestWebBooking: through the forms, a candidate books a combined exam in
// one step, sees a refusal's Chinese message next to the button that asked,
// and cancels; a name with markup shows as text.
func TestWebBooking(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2 := a.NewSlot(sched, venue, 2, 5, 8, nil)
	s3 := a.NewSlot(sched, venue, 3, 5, 13, nil)
	late2 := a.NewSlot(sched, venue, 2, 5, 14, nil) // ends after s3 starts: no pair with it
	full := a.NewSlot(sched, venue, 4, 6, 9, map[string]any{"capacity": 1})
	c := a.NewCandidate(sched, map[string]any{"name": `<script>alert(1)</script>`})
	b := newBrowser(a, t)
	b.logIn(c.IDNo, "candidate-pw", "/candidate")

	p := b.get("/candidate/slots")
	pair := fmt.Sprintf("pair-%d-%d", s2, s3)
	if rowOf(p.Body, pair) == "" || strings.Contains(p.Body, fmt.Sprintf("pair-%d-%d", late2, s3)) {
		t.Fatalf("combined offers: want %s only\n%s", pair, p.Body)
	}
	if strings.Contains(p.Body, "<script>alert(1)") || !strings.Contains(p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the name is not escaped:\n%s", p.Body)
	}

	p = b.post("/candidate/slots", url.Values{"slot_id": {fmt.Sprint(s2), fmt.Sprint(s3)}, "key": {"web-test-1"}})
	if !strings.HasSuffix(p.URL, "?done=booked") || !strings.Contains(p.Body, "预约成功") {
		t.Fatalf("book combined: %d at %s\n%s", p.Status, p.URL, p.Body)
	}
	p = b.get("/candidate/bookings") // the booking landed on its slip
	if n := strings.Count(p.Body, `<span class="tag">联考</span>`); n != 2 {
		t.Errorf("bookings list shows %d combined bookings, want 2\n%s", n, p.Body)
	}
	// The same form again (a double click) books nothing more.
	b.post("/candidate/slots", url.Values{"slot_id": {fmt.Sprint(s2), fmt.Sprint(s3)}, "key": {"web-test-1"}})
	if r := a.Must(http.StatusOK, "GET", "/api/v1/me/bookings", c.Token, nil); len(r.Body["bookings"].([]any)) != 2 {
		t.Errorf("after a repeated form: %s", r.Raw)
	}

	t.Run("Refused", func(t *testing.T) {
		d := a.NewCandidate(sched, nil)
		b := newBrowser(a, t)
		b.logIn(d.IDNo, "candidate-pw", "/candidate")
		b.get("/candidate/slots?subject=4")
		p := b.post("/candidate/slots", url.Values{"slot_id": {fmt.Sprint(full)}, "subject": {"4"}})
		row := rowOf(p.Body, fmt.Sprintf("slot-%d", full))
		// Subject 4 before the road tests: subject1_missing's second message.
		if p.Status != http.StatusConflict || !strings.Contains(row, `role="alert" data-code="road_tests_missing">预约安全文明驾驶常识考试须先通过科目一、科目二和科目三`) {
			t.Errorf("refusal: %d, row %q\n%s", p.Status, row, p.Body)
		}
		if !strings.Contains(p.Body, `<option value="4" selected>`) {
			t.Errorf("the refused page lost the list's filter")
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		var b2 int64
		if err := a.DB.Get(&b2, `SELECT id FROM bookings WHERE candidate_id = $1 AND slot_id = $2`, c.ID, s2); err != nil {
			t.Fatal(err)
		}
		b.get("/candidate/bookings")
		p := b.post(fmt.Sprintf("/candidate/bookings/%d/cancel", b2), url.Values{"with_pair": {"1"}})
		if p.URL != "/candidate/bookings?done=cancelled" || strings.Count(p.Body, "已取消</span>") != 2 {
			t.Errorf("cancel with pair: at %s\n%s", p.URL, p.Body)
		}
		p = b.post(fmt.Sprintf("/candidate/bookings/%d/cancel", b2), nil)
		if row := rowOf(p.Body, fmt.Sprintf("booking-%d", b2)); p.Status != http.StatusConflict || !strings.Contains(row, "该预约已取消或已考试，不能再取消") {
			t.Errorf("cancel twice: %d, row %q", p.Status, row)
		}
		if !strings.Contains(p.Body, `id="lang-switch" href="/candidate/bookings?lang=en"`) ||
			!strings.Contains(p.Body, `<a href="/candidate/bookings" aria-current="page">`) {
			t.Errorf("a page rendered for a form links to its own POST:\n%s", p.Body)
		}
		if p := b.post("/candidate/bookings/999999/cancel", nil); p.Status != http.StatusNotFound {
			t.Errorf("someone else's booking: %d, want 404", p.Status)
		}
	})
}

// TestWebSlotFullMessage: the seat goes between showing the list and pressing
// its button; the page shows slot_full's Chinese message in the slot's row,
// which now offers no button.
func TestWebSlotFullMessage(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 4, 9, map[string]any{"capacity": 1})
	c := a.NewCandidate(sched, nil)
	b := newBrowser(a, t)
	b.logIn(c.IDNo, "candidate-pw", "/candidate")
	b.get("/candidate/slots")
	other := a.NewCandidate(sched, nil)
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", other.Token, map[string]any{"slot_ids": []int64{slot}})
	p := b.post("/candidate/slots", url.Values{"slot_id": {fmt.Sprint(slot)}})
	key := fmt.Sprintf("slot-%d", slot)
	row := rowOf(p.Body, key)
	if p.Status != http.StatusConflict || !strings.Contains(row, `<p class="refusal" id="err-`+key+`" role="alert" data-code="slot_full">该场次已约满</p>`) {
		t.Errorf("got %d, row %q", p.Status, row)
	}
	if !strings.Contains(row, "名额已满") {
		t.Errorf("the full slot still offers its button: %q", row)
	}
}

// TestWebPriorityRequest: a candidate asks for the priority lane with a
// reason and needs; a missing reason is refused next to the reasons; the
// pending request can be revised, and a grant replaces the form.
func TestWebPriorityRequest(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	c := a.NewCandidate(sched, nil)
	b := newBrowser(a, t)
	b.logIn(c.IDNo, "candidate-pw", "/candidate")

	p := b.get("/candidate/priority")
	if !strings.Contains(p.Body, `<legend>申请原因</legend>`) || strings.Contains(p.Body, `id="lane-pending"`) {
		t.Fatalf("the form:\n%s", p.Body)
	}
	p = b.post("/candidate/priority", url.Values{"needs": {"step_free"}, "note": {"<b>轮椅</b>"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `<fieldset aria-describedby="err-reason">`) ||
		!strings.Contains(p.Body, `id="err-reason" role="alert">请选择申请原因。`) ||
		!strings.Contains(p.Body, `id="need-step_free" name="needs" value="step_free" checked`) ||
		!strings.Contains(p.Body, `&lt;b&gt;轮椅&lt;/b&gt;</textarea>`) {
		t.Errorf("no reason: %d\n%s", p.Status, p.Body)
	}
	for _, f := range []url.Values{
		{"reason": {"disability"}, "needs": {"step_free", "escort", "step_free"}, "note": {"使用轮椅"}},
		{"reason": {"elderly"}, "needs": {"extra_time"}},
	} {
		p = b.post("/candidate/priority", f)
		if p.URL != "/candidate/priority?done=lane_requested" || !strings.Contains(p.Body, `id="lane-pending"`) {
			t.Fatalf("request %v: at %s\n%s", f, p.URL, p.Body)
		}
	}
	if !strings.Contains(p.Body, `id="reason-elderly" name="reason" value="elderly" required checked`) {
		t.Errorf("the pending request is not in the form:\n%s", p.Body)
	}
	var rows []string
	if err := a.DB.Select(&rows, `SELECT reason || ':' || array_to_string(needs, ',') || ':' || status
		FROM priority_requests WHERE candidate_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rows) != "[elderly:extra_time:pending]" {
		t.Errorf("requests %v, want one pending, revised", rows)
	}
	if p := b.post("/candidate/priority", url.Values{"reason": {"rich"}}); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("unknown reason: %d", p.Status)
	}

	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", c.ID), sched,
		map[string]any{"reason": "elderly", "needs": []string{"extra_time"}})
	p = b.get("/candidate/priority")
	if !strings.Contains(p.Body, "您已开通绿色通道（高龄）") || strings.Contains(p.Body, "<form method=\"post\" action=\"/candidate/priority\"") {
		t.Errorf("after the grant:\n%s", p.Body)
	}
}
