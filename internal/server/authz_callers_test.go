package server_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"examd/internal/secret"
	"examd/internal/server/servertest"
)

// The callers of the authorization matrix (authz_test.go) and the objects
// its paths name, all made through the API and the pages of one examd.

// authzCaller is one kind of caller: what it sends to the API and to the
// pages.
type authzCaller struct {
	name string
	// header is the Authorization header of its API requests; pageHeader
	// that of its page requests (pages know only the cookie).
	header, pageHeader string
	// cookie is its page cookie (examd_session, or examd_csrf before any
	// login); csrf the _csrf its page forms carry ("" sends none).
	cookie *http.Cookie
	csrf   string
	// hall is what it puts in /hall/{token}: its own credential.
	hall string
	// user and password log it in again for a row that spends its session.
	user, password string
	// cookieOnAPI: its API requests carry its page cookie (nocsrf, which
	// has no API token: the API must not take a cookie for one).
	cookieOnAPI bool
}

// authzWorld is the running examd, the callers, and the ids the table's
// paths name ({venue}, {slot}, …).
type authzWorld struct {
	t       *testing.T
	a       *servertest.App
	http    *http.Client
	callers []*authzCaller
	ids     map[string]string
	// retiredKey and revokedHall are the key of {device} and the token of
	// {display}, which their rows retire and revoke.
	retiredKey, revokedHall string
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// send makes one request as c and returns the answer, its body read. API
// requests carry c's Authorization header and a JSON body; page requests
// carry c's cookie, and for a form its _csrf.
func (w *authzWorld) send(c *authzCaller, method, path, fields string) (*http.Response, string) {
	w.t.Helper()
	api := strings.HasPrefix(path, "/api/")
	var body io.Reader
	var ctype string
	switch {
	case method == http.MethodGet || method == http.MethodDelete:
	case api && fields == "":
		body, ctype = strings.NewReader("{}"), "application/json"
	case api:
		body, ctype = strings.NewReader(fields), "application/json"
	default:
		form, err := url.ParseQuery(fields)
		if err != nil {
			w.t.Fatal(err)
		}
		if c.csrf != "" {
			form.Set("_csrf", c.csrf)
		}
		body, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequest(method, w.a.URL+path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	h := c.pageHeader
	if api {
		h = c.header
	}
	if h != "" {
		req.Header.Set("Authorization", h)
	}
	if c.cookie != nil && (!api || c.cookieOnAPI) {
		req.AddCookie(c.cookie)
	}
	res, err := w.http.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s as %s: %v", method, path, c.name, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}

// cookieOf is the cookie name that res sets, nil when it sets none.
func cookieOf(res *http.Response, name string) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == name && ck.Value != "" {
			return &http.Cookie{Name: ck.Name, Value: ck.Value}
		}
	}
	return nil
}

// formToken is the CSRF token of a page's forms, after following the
// redirects of a signed-in browser (/login sends it to its home page).
func (w *authzWorld) formToken(ck *http.Cookie) string {
	w.t.Helper()
	path := "/login"
	for range 3 {
		res, body := w.send(&authzCaller{name: "browser", cookie: ck}, http.MethodGet, path, "")
		if m := csrfField.FindStringSubmatch(body); m != nil {
			return html.UnescapeString(m[1])
		}
		if res.StatusCode != http.StatusSeeOther {
			break
		}
		path = res.Header.Get("Location")
	}
	w.t.Fatalf("no form token on %s with cookie %s", path, ck.Name)
	return ""
}

// pageLogin logs in through the login form, as a browser does, and returns
// the session cookie and its forms' token.
func (w *authzWorld) pageLogin(user, password string) (*http.Cookie, string) {
	w.t.Helper()
	res, body := w.send(&authzCaller{name: "browser"}, http.MethodGet, "/login", "")
	pre, m := cookieOf(res, "examd_csrf"), csrfField.FindStringSubmatch(body)
	if pre == nil || m == nil {
		w.t.Fatalf("login page: %d, no pre-session cookie or token", res.StatusCode)
	}
	form := url.Values{"username": {user}, "password": {password}, "_csrf": {html.UnescapeString(m[1])}}
	req, _ := http.NewRequest(http.MethodPost, w.a.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(pre)
	res, err := w.http.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	res.Body.Close()
	session := cookieOf(res, "examd_session")
	if res.StatusCode != http.StatusSeeOther || session == nil {
		w.t.Fatalf("page login of %s: %d, session cookie %v", user, res.StatusCode, session)
	}
	return session, w.formToken(session)
}

// fresh is c with sessions of its own for one request, for a row that ends
// the caller's session (logout): the caller's own stay for the next rows.
func (w *authzWorld) fresh(c *authzCaller) *authzCaller {
	w.t.Helper()
	if c.user == "" {
		return c
	}
	f := *c
	if f.header != "" {
		f.header = "Bearer " + w.a.Login(c.user, c.password)
	}
	ck, csrf := w.pageLogin(c.user, c.password)
	f.cookie = ck
	if f.csrf != "" {
		f.csrf = csrf
	}
	return &f
}

// staff creates a staff account (venue_id and desk in extra) and returns
// its username.
func (w *authzWorld) staff(role string, extra map[string]any) string {
	w.t.Helper()
	name := fmt.Sprintf("authz-%s-%d", role, servertest.Next())
	body := map[string]any{"username": name, "password": "authz-secret", "role": role}
	for k, v := range extra {
		body[k] = v
	}
	w.a.Must(http.StatusCreated, "POST", "/api/v1/users", w.a.Admin, body)
	return name
}

// user is a caller with an API token and a page session of user.
func (w *authzWorld) user(name, user, password string) *authzCaller {
	w.t.Helper()
	tok := w.a.Login(user, password)
	ck, csrf := w.pageLogin(user, password)
	return &authzCaller{name: name, header: "Bearer " + tok, cookie: ck, csrf: csrf, hall: tok, user: user, password: password}
}

// expire ends c's sessions as their lifetime would.
func (w *authzWorld) expire(c *authzCaller) {
	w.t.Helper()
	tok, _ := strings.CutPrefix(c.header, "Bearer ")
	res, err := w.a.DB.Exec(`UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE token_hash = ANY(ARRAY[$1::bytea, $2::bytea])`,
		secret.Hash(tok), secret.Hash(c.cookie.Value))
	if err != nil {
		w.t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		w.t.Fatalf("expired %d sessions, want 2", n)
	}
}

// logOut ends c's sessions through the API's and the page's logout.
func (w *authzWorld) logOut(c *authzCaller) {
	w.t.Helper()
	if res, _ := w.send(c, http.MethodPost, "/api/v1/logout", ""); res.StatusCode != http.StatusNoContent {
		w.t.Fatalf("API logout: %d", res.StatusCode)
	}
	if res, _ := w.send(c, http.MethodPost, "/logout", ""); res.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("page logout: %d", res.StatusCode)
	}
}

// hallURL is the hall screen's address on the admin's page after creating a
// display token.
var hallURL = regexp.MustCompile(`/hall/([A-Za-z0-9_-]{20,})`)

// newAuthzWorld starts examd and makes the callers and the objects.
func newAuthzWorld(t *testing.T) *authzWorld {
	t.Helper()
	a := servertest.Start(t)
	w := &authzWorld{t: t, a: a, ids: map[string]string{},
		http: &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
	h := servertest.NewHall(t, a)
	cand, b2, _, b4 := h.Combined(t)
	attempt := h.Pass(t, b2, 2)
	other := a.NewCandidate(h.Sched, nil)
	ready := h.Ready(t)
	future := a.NewSlot(h.Sched, h.Venue, 2, 20, 9, nil)
	elsewhere := a.NewVenue(h.Sched, true)
	device := func() (id, key string) {
		r := a.Must(http.StatusCreated, "POST", "/api/v1/devices", a.Admin, map[string]any{
			"venue_id": h.Venue, "name": "备用车", "vehicle_plate": "京A9999学", "licence_classes": []string{"C1"}, "subjects": []int{2, 3}, "adapted_vehicle": false,
		})
		return fmt.Sprint(r.ID()), r.Body["key"].(string)
	}
	spare, spareKey := device()
	pageSpare, _ := device()

	admin := w.user("admin", "admin", servertest.AdminPassword)
	candidate := w.user("candidate", cand.IDNo, "candidate-pw")
	// The candidate asks for the priority lane, for the deciding pages.
	form := url.Values{"reason": {"other"}, "note": {"腿伤"}}
	if res, body := w.sendForm(candidate, "/candidate/priority", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("lane request: %d %s", res.StatusCode, body)
	}
	var laneRequest, display int64
	if err := a.DB.Get(&laneRequest, `SELECT id FROM priority_requests WHERE candidate_id = $1`, cand.ID); err != nil {
		t.Fatal(err)
	}
	// Two hall screens: one is the display caller, the other is revoked by the row that revokes.
	var displayToken string
	for i := range 2 {
		res, body := w.sendForm(admin, "/admin/displays", url.Values{"venue_id": {fmt.Sprint(h.Venue)}, "label": {fmt.Sprintf("大厅 %d号屏", i+1)}})
		m := hallURL.FindStringSubmatch(body)
		if res.StatusCode != http.StatusCreated || m == nil {
			t.Fatalf("display token: %d", res.StatusCode)
		}
		if i == 0 {
			displayToken = m[1]
		} else {
			w.revokedHall = m[1]
		}
	}
	if err := a.DB.Get(&display, `SELECT max(id) FROM display_tokens`); err != nil {
		t.Fatal(err)
	}
	w.retiredKey = spareKey
	w.ids = map[string]string{
		"{venue}": fmt.Sprint(h.Venue), "{slot}": fmt.Sprint(future), "{candidate}": fmt.Sprint(cand.ID),
		"{booking}": fmt.Sprint(b2), "{cancel}": fmt.Sprint(b4), "{attempt}": fmt.Sprint(attempt),
		"{issuance}": fmt.Sprint(h.IssuanceOf(t, ready)), "{device}": spare, "{pagedevice}": pageSpare,
		"{display}": fmt.Sprint(display), "{lanerequest}": fmt.Sprint(laneRequest),
	}

	expired := w.user("expired", w.staff("admin", nil), "authz-secret")
	w.expire(expired)
	expired.user = "" // no fresh session: it stays expired
	loggedOut := w.user("loggedout", w.staff("admin", nil), "authz-secret")
	w.logOut(loggedOut)
	loggedOut.user = ""
	// Anyone's browser that opened the login page: a pre-session cookie
	// and its token, so that its forms pass CSRF and meet the login check.
	res, body := w.send(&authzCaller{name: "browser"}, http.MethodGet, "/login", "")
	pre, m := cookieOf(res, "examd_csrf"), csrfField.FindStringSubmatch(body)
	if pre == nil || m == nil {
		t.Fatalf("login page: %d, no pre-session cookie or token", res.StatusCode)
	}
	none := &authzCaller{name: "none", cookie: pre, csrf: html.UnescapeString(m[1]), hall: "no-such-hall-token-0000000000"}
	// The admin's page session alone: no CSRF token, and no Authorization
	// header on the API.
	session, _ := w.pageLogin("admin", servertest.AdminPassword)
	nocsrf := &authzCaller{name: "nocsrf", cookie: session, hall: session.Value, cookieOnAPI: true,
		user: "admin", password: servertest.AdminPassword}
	// A device key and a display token, tried everywhere as an attacker
	// would: in the header, as the session cookie, as a hall token.
	credential := func(name, header, value string) *authzCaller {
		ck := &http.Cookie{Name: "examd_session", Value: value}
		return &authzCaller{name: name, header: header, pageHeader: header, cookie: ck, csrf: w.formToken(ck), hall: value}
	}
	w.callers = []*authzCaller{
		none, expired, loggedOut, nocsrf, candidate,
		w.user("other", other.IDNo, "candidate-pw"),
		w.user("examiner", w.staff("examiner", map[string]any{"venue_id": h.Venue}), "authz-secret"),
		w.user("stranger", w.staff("examiner", map[string]any{"venue_id": elsewhere}), "authz-secret"),
		w.user("scheduler", w.staff("scheduler", nil), "authz-secret"),
		w.user("issuer", w.staff("issuer", map[string]any{"desk": "5号窗口"}), "authz-secret"),
		admin,
		credential("device", "Device "+h.Device, h.Device),
		credential("display", "Bearer "+displayToken, displayToken),
	}
	return w
}

// sendForm posts a page form with fields as c.
func (w *authzWorld) sendForm(c *authzCaller, path string, fields url.Values) (*http.Response, string) {
	w.t.Helper()
	fields.Set("_csrf", c.csrf)
	req, _ := http.NewRequest(http.MethodPost, w.a.URL+path, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(c.cookie)
	res, err := w.http.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}
