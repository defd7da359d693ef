package web_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// TestNoSecretsInLogs runs an exam day through the API and the pages, with
// wrong passwords, unmatched and malformed paths and tokens in query
// strings, then scans every line examd logged: no password, session token,
// device key, hall-screen token, CSRF token or session cookie, and no full ID
// number, may appear in any of them.
func TestNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	secrets := []string{servertest.AdminPassword, "staff-secret", "desk-secret", "candidate-pw", "examiner-pw", "issuer-pw",
		a.Admin, h.Sched, h.Examiner, h.Issuer, h.Device, h.Judge, h.Terminal}
	keep := func(s ...string) { secrets = append(secrets, s...) }
	var idNumbers []string

	// The API: a candidate through subjects 2, 3 and 4 to a licence, one who
	// fails, one who books and cancels.
	ready := h.Ready(t)
	h.Issue(t, ready)
	_, failing := h.Book(t, h.Slot, 2)
	h.Fail(t, failing)
	c := a.NewCandidate(h.Sched, nil)
	slot := a.NewSlot(h.Sched, h.Venue, 2, 20, 9, nil)
	booking := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}},
		"Idempotency-Key", "key-"+testkit.UUID()).Body["bookings"].([]any)[0].(map[string]any)["id"]
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%v", booking), c.Token, nil)
	for _, x := range []servertest.Candidate{ready, c} {
		keep(x.Token)
		idNumbers = append(idNumbers, x.IDNo)
	}
	var failingID string
	if err := a.DB.Get(&failingID, `SELECT c.id_number FROM candidates c JOIN bookings b ON b.candidate_id = c.id WHERE b.id = $1`, failing); err != nil {
		t.Fatal(err)
	}
	idNumbers = append(idNumbers, failingID)
	screen, _, err := servertest.Watch(t, a, h.Examiner, h.Venue, "0")
	if err != nil {
		t.Fatal(err)
	}
	screen.Next()
	// Refused logins and tokens: what a person mistyped is theirs too.
	keep("wrong-password-1", "not-a-token-at-all-0123456789abcdefghijklmnop")
	a.Do("POST", "/api/v1/login", "", map[string]any{"username": "admin", "password": "wrong-password-1"})
	a.Do("POST", "/api/v1/login", "", map[string]any{"username": c.IDNo, "password": "wrong-password-1"})
	a.Do("GET", "/api/v1/me/bookings", "not-a-token-at-all-0123456789abcdefghijklmnop", nil)
	a.Do("POST", "/api/v1/exam/events", "", map[string]any{}, "Authorization", "Device not-a-token-at-all-0123456789abcdefghijklmnop")

	// The pages: the admin issues a hall-screen token and registers a
	// candidate; the candidate, the examiner and the desk use theirs.
	admin := newBrowser(a, t)
	admin.logIn("admin", servertest.AdminPassword, "/admin/slots")
	admin.get("/admin/displays")
	p := admin.post("/admin/displays", url.Values{"venue_id": {fmt.Sprint(h.Venue)}, "label": {"候考大厅 1号屏"}})
	m := hallURL.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no hall token: %d\n%s", p.Status, p.Body)
	}
	display := m[2]
	keep(display)
	newID := testkit.IDNumber(int(servertest.Next()))
	idNumbers = append(idNumbers, newID)
	admin.get("/admin/candidates")
	admin.post("/admin/candidates", url.Values{"id_number": {newID}, "name": {"王五"}, "phone": {"13912345678"}, "licence_class": {"C1"},
		"permit_issued_on": {a.Day(-30).Format(time.DateOnly)}, "permit_expires_on": {a.Day(300).Format(time.DateOnly)}, "password": {"first-pw-1"}})
	keep("first-pw-1")
	admin.get("/admin/candidates?q=" + newID)
	admin.get("/admin/candidates?q=" + url.QueryEscape(c.IDNo))
	admin.get("/admin/audit")
	keep(admin.csrf)

	cand := newBrowser(a, t)
	cand.logIn(strings.ToLower(c.IDNo), "candidate-pw", "/candidate")
	cand.get("/candidate/slots")
	cand.get("/candidate/bookings")
	keep(cand.csrf)
	wrong := newBrowser(a, t)
	wrong.get("/login")
	wrong.post("/login", url.Values{"username": {ready.IDNo}, "password": {"wrong-password-1"}})
	keep(wrong.csrf)

	exr := newBrowser(a, t)
	exr.logIn(examinerAt(a, t, h.Venue), "staff-secret", "/examiner")
	exr.get("/examiner/roster")
	keep(exr.csrf)
	desk := newBrowser(a, t)
	desk.logIn(deskUser(t, a, "issuer", "5号窗口"), "desk-secret", "/desk")
	keep(desk.csrf)
	hall := newBrowser(a, t)
	hall.get("/hall/" + display)
	hall.get("/hall/" + display + "/board")
	for _, b := range []*browser{admin, cand, wrong, exr, desk, hall} {
		for _, ck := range b.c.Jar.Cookies(mustURL(t, a.URL)) {
			if strings.Contains(ck.Name, "session") || strings.Contains(ck.Name, "csrf") {
				keep(ck.Value)
			}
		}
	}

	// Unmatched, malformed and hostile paths, secrets in paths and queries.
	for _, path := range []string{
		"/hall/" + display + "/", "/hall/" + display + "/board.json/x", "/hall/" + display + "x",
		"/api/v1/live?access_token=" + h.Examiner, "/api/v1/live/issuance?access_token=" + h.Issuer,
		"/api/v1/candidates/" + c.IDNo, "/api/v1/bookings/" + c.IDNo + "/attempts", "/admin/candidates/" + newID,
		"/" + a.Admin, "/api/v1/" + h.Device, "/static/" + display, "/login?next=/hall/" + display,
		"/api/v1/venues?access_token=" + a.Admin, "/hall/" + url.PathEscape(c.IDNo+"/"+display),
	} {
		a.Do("GET", path, "", nil)
	}
	for _, raw := range []string{"/%zz", "/hall/" + display + "/%zz", "/hall/%zz" + display, "/api/v1/candidates/" + c.IDNo + "%zz"} {
		rawGet(t, a.URL, raw)
	}

	var secretsLogged, requestLines int
	lines := a.Logs()
	for _, line := range lines {
		if strings.Contains(line, `"msg":"request"`) {
			requestLines++
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				secretsLogged++
				t.Errorf("the log holds a secret %.6s…: %s", s, line)
			}
		}
		for _, id := range idNumbers {
			if strings.Contains(strings.ToUpper(line), id) {
				t.Errorf("the log holds the ID number %s: %s", id, line)
			}
		}
	}
	// The scan saw the requests: the test cannot pass on an empty log.
	if requestLines < 50 || !strings.Contains(strings.Join(lines, "\n"), `"route":"/hall/:token"`) {
		t.Errorf("%d request lines, the hall's among them?\n%s", requestLines, strings.Join(lines, "\n"))
	}
}

// rawGet sends a GET whose request line is path as it is, malformed or not
// (net/http's client refuses to send such paths), and reads the status line.
func rawGet(t *testing.T, base, path string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: examd\r\nConnection: close\r\n\r\n", path)
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}
