package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"examd/internal/server/servertest"
)

// forgedToken is the token a form keyed with secret would carry, computed
// the way examd does: what an attacker who chose the secret can compute.
func forgedToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("examd form v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TestWebCSRFForged: a form whose cookie and token a third party chose is
// refused with 403 and changes nothing: a double-submit pair planted by a
// sibling site or a plain-HTTP page (the attack Echo's CSRF let through), a
// pair keyed with a secret the attacker chose, the attacker's own valid
// token from their own session, and forms another site's page sends. The
// victim's own form, with their session's token, still works.
func TestWebCSRFForged(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	victim := accountsAdmin(a, t)
	attacker := accountsAdmin(a, t)
	attacker.get("/admin/venues")
	venues := func() int { return planningCount(a, t, "venues", "name = '伪造考场'") }
	planted := strings.Repeat("A", 43)
	for name, tc := range map[string]struct {
		cookie, token string
		header        []string
	}{
		"DoubleSubmit":      {planted, planted, nil},
		"ChosenSecret":      {planted, forgedToken(planted), nil},
		"AttackersOwnToken": {"", attacker.csrf, nil},
		"NoToken":           {"", "", nil},
		"SameSite":          {planted, forgedToken(planted), []string{"Sec-Fetch-Site", "same-site"}},
		"CrossSite":         {"", "", []string{"Sec-Fetch-Site", "cross-site"}},
		"OtherOrigin":       {"", "", []string{"Origin", "http://evil.example"}},
		"NullOrigin":        {"", "", []string{"Origin", "null"}},
	} {
		t.Run(name, func(t *testing.T) {
			victim.get("/admin/venues")
			form := url.Values{"name": {"伪造考场"}, "address": {"x"}, "_csrf": {tc.token}}
			if tc.token == "" {
				form.Set("_csrf", victim.csrf) // the header alone refuses it
				if name == "NoToken" {
					form.Set("_csrf", "")
				}
			}
			header := tc.header
			if tc.cookie != "" {
				// The browser sends the planted cookie with the victim's session.
				header = append(header, "Cookie", "examd_csrf="+tc.cookie+"; "+sessionCookieOf(t, victim))
			}
			p := victim.post("/admin/venues", form, header...)
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "<html") {
				t.Errorf("%d, want an HTML 403\n%.300s", p.Status, p.Body)
			}
		})
	}
	if n := venues(); n != 0 {
		t.Fatalf("forged forms created %d venues", n)
	}
	victim.get("/admin/venues")
	if p := victim.post("/admin/venues", url.Values{"name": {"真考场"}, "address": {"x"}}, "Sec-Fetch-Site", "same-origin"); p.Status != http.StatusOK ||
		planningCount(a, t, "venues", "name = '真考场'") != 1 {
		t.Errorf("the victim's own form: %d at %s", p.Status, p.URL)
	}

	// Before login: a login form keyed with a planted secret is refused when
	// the browser says it comes from a sibling site or a plain-HTTP page.
	t.Run("Login", func(t *testing.T) {
		b := newBrowser(a, t)
		form := url.Values{"username": {"admin"}, "password": {servertest.AdminPassword}, "_csrf": {forgedToken(planted)}}
		for _, header := range [][]string{
			{"Sec-Fetch-Site", "same-site"}, {"Sec-Fetch-Site", "cross-site"}, {"Origin", "http://evil.example"},
		} {
			p := b.post("/login", form, append(header, "Cookie", "examd_csrf="+planted)...)
			if p.Status != http.StatusForbidden || p.URL != "/login" {
				t.Errorf("%v: %d at %s, want 403", header, p.Status, p.URL)
			}
		}
		// Without a cookie examd gave, no form is examd's.
		if p := b.post("/login", url.Values{"username": {"admin"}, "password": {servertest.AdminPassword}, "_csrf": {""}}); p.Status != http.StatusForbidden {
			t.Errorf("no cookie, no token: %d, want 403", p.Status)
		}
	})
}

// sessionCookieOf is the Cookie header pair of b's session.
func sessionCookieOf(t *testing.T, b *browser) string {
	t.Helper()
	for _, ck := range b.c.Jar.Cookies(mustURL(t, b.a.URL)) {
		if ck.Name == "examd_session" {
			return ck.Name + "=" + ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}
