package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"examd/internal/server/servertest"
)

// TestWebLoginThrottle: the login form counts failures with the API's
// throttle: after ten wrong passwords from one address, the right one is
// refused on the page with the Chinese message and Retry-After, and the
// API refuses it too.
func TestWebLoginThrottle(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	b := newBrowser(a, t)
	for i := range 10 {
		b.get("/login")
		p := b.post("/login", url.Values{"username": {"admin"}, "password": {"wrong-" + string(rune('a'+i))}})
		if p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, p.Status)
		}
	}
	b.get("/login")
	p := b.post("/login", url.Values{"username": {"admin"}, "password": {servertest.AdminPassword}})
	if p.Status != http.StatusTooManyRequests || !strings.Contains(p.Body, "登录失败次数过多") || p.Header.Get("Retry-After") == "" {
		t.Fatalf("11th login on the page: %d, Retry-After %q\n%s", p.Status, p.Header.Get("Retry-After"), p.Body)
	}
	if r := a.Do("POST", "/api/v1/login", "", map[string]any{"username": "admin", "password": servertest.AdminPassword}); r.Status != http.StatusTooManyRequests {
		t.Errorf("the API after the page's failures: %d, want 429", r.Status)
	}
}
