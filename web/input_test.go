package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// TestWebInvalidUTF8: a form field or query parameter that is not UTF-8
// text is refused with 422 and the page's message, before any handler reads
// it; nothing is stored.
func TestWebInvalidUTF8(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	b := accountsAdmin(a, t)
	bad := "\xff\xfe"
	count := func(table string) int { return planningCount(a, t, table, "true") }
	venues, candidates, users := count("venues"), count("candidates"), count("users")
	b.get("/admin/venues")
	for name, tc := range map[string]struct {
		path string
		form url.Values
	}{
		"Venue":     {"/admin/venues", url.Values{"name": {"第二" + bad + "考场"}, "address": {"北四环1号"}}},
		"FieldName": {"/admin/venues", url.Values{"name": {"第二考场"}, "addr" + bad: {"x"}}},
		"NUL":       {"/admin/venues", url.Values{"name": {"第二\x00考场"}}},
		"Candidate": {"/admin/candidates", url.Values{"id_number": {testkit.IDNumber(910001)}, "name": {"张" + bad}, "phone": {"13912345678"},
			"licence_class": {"C1"}, "permit_issued_on": {a.Day(-30).Format(time.DateOnly)},
			"permit_expires_on": {a.Day(300).Format(time.DateOnly)}, "password": {"first-pw-1"}}},
		"User": {"/admin/users", url.Values{"username": {"u" + bad}, "password": {"long-enough"}, "role": {"scheduler"}}},
	} {
		t.Run(name, func(t *testing.T) {
			p := b.post(tc.path, tc.form)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "提交的内容无效") {
				t.Errorf("%d, want 422 and the message\n%s", p.Status, p.Body)
			}
		})
	}
	t.Run("Query", func(t *testing.T) {
		if p := b.get("/admin/candidates?q=%FF"); p.Status != http.StatusUnprocessableEntity {
			t.Errorf("a query that is not UTF-8: %d, want 422", p.Status)
		}
	})
	t.Run("Login", func(t *testing.T) {
		l := newBrowser(a, t)
		l.get("/login")
		if p := l.post("/login", url.Values{"username": {"admin"}, "password": {servertest.AdminPassword + bad}}); p.Status != http.StatusUnprocessableEntity {
			t.Errorf("login: %d, want 422", p.Status)
		}
	})
	if n := count("venues"); n != venues {
		t.Errorf("%d venues, want %d", n, venues)
	}
	if n := count("candidates"); n != candidates {
		t.Errorf("%d candidates, want %d", n, candidates)
	}
	if n := count("users"); n != users {
		t.Errorf("%d users, want %d", n, users)
	}
}
