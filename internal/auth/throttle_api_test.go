package auth_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"examd/internal/pg/pgtest"
	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// attempt is one login as a client at address from sees it.
type attempt struct {
	status     int
	code       string
	retryAfter int
}

// logInFrom logs in at a's API as user from address from, which the
// replicas read from X-Forwarded-For (their peer is a trusted proxy).
func logInFrom(t *testing.T, a *servertest.App, user, password, from string) attempt {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	req, err := http.NewRequest("POST", a.URL+"/api/v1/login", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", from)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.NewDecoder(res.Body).Decode(&env)
	ra, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	return attempt{res.StatusCode, env.Error.Code, ra}
}

// TestLoginThrottleAPI: two replicas share the counts. A username fails
// ten times from an address: its next login there is refused, the right
// password too, while it logs in from elsewhere and others log in from
// there; after the back-off it logs in, and its count starts again. An
// address failing for many usernames is refused for all; a username
// failing from many addresses is refused everywhere but where it logged in
// before.
func TestLoginThrottleAPI(t *testing.T) {
	t.Parallel()
	clock := testkit.RunningClock(time.Now())
	db, url := pgtest.NewDB(t)
	settings := []string{"EXAMD_TRUSTED_PROXIES", "127.0.0.1", "EXAMD_LOGIN_ADDRESS_LIMIT", "20", "EXAMD_LOGIN_USERNAME_LIMIT", "25"}
	a := servertest.StartClock(t, db, url, clock.Now, settings...)
	b := servertest.StartClock(t, db, url, clock.Now, settings...)
	replicas := []*servertest.App{a, b}
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
		map[string]any{"username": "wang", "password": "wang-secret", "role": "issuer"})
	const home, office = "203.0.113.7", "198.51.100.20"

	expect := func(got attempt, status int, code string) {
		t.Helper()
		if got.status != status || got.code != code {
			t.Fatalf("got %d %q, want %d %q", got.status, got.code, status, code)
		}
		if status == http.StatusTooManyRequests && (got.retryAfter < 1 || got.retryAfter > 3600) {
			t.Errorf("Retry-After %d, want 1..3600", got.retryAfter)
		}
	}
	for i := range 10 { // half on each replica
		expect(logInFrom(t, replicas[i%2], "wang", "guess-"+strconv.Itoa(i), home), http.StatusUnauthorized, "invalid_credentials")
	}
	for _, r := range replicas {
		got := logInFrom(t, r, "wang", "wang-secret", home)
		expect(got, http.StatusTooManyRequests, "too_many_attempts")
		if got.retryAfter > 60 {
			t.Errorf("first block: Retry-After %d, want at most 60", got.retryAfter)
		}
	}
	// Nobody else is locked out: the user elsewhere, others from there.
	expect(logInFrom(t, b, "wang", "wang-secret", office), http.StatusOK, "")
	expect(logInFrom(t, a, "admin", servertest.AdminPassword, home), http.StatusOK, "")

	// After the back-off the right password logs in, and the count starts
	// again: nine failures block nothing.
	clock.Add(61 * time.Second)
	expect(logInFrom(t, a, "wang", "wang-secret", home), http.StatusOK, "")
	for i := range 9 {
		expect(logInFrom(t, replicas[i%2], "wang", "again-"+strconv.Itoa(i), home), http.StatusUnauthorized, "invalid_credentials")
	}
	expect(logInFrom(t, b, "wang", "wang-secret", home), http.StatusOK, "")

	// An address's limit: twenty failures for as many usernames, then
	// even the admin's right password is refused from there (home, with
	// its 19, is not).
	const crowd = "192.0.2.99"
	for i := range 20 {
		expect(logInFrom(t, replicas[i%2], fmt.Sprintf("nobody%d", i), "x", crowd), http.StatusUnauthorized, "invalid_credentials")
	}
	expect(logInFrom(t, a, "admin", servertest.AdminPassword, crowd), http.StatusTooManyRequests, "too_many_attempts")

	// A username's limit: 10 failures from addresses unknown then (the
	// nine at home came after wang logged in there), fifteen more from
	// fifteen others make 25. Then wang is refused from a new address, but
	// not from home or the office, where wang logged in.
	for i := range 15 {
		expect(logInFrom(t, replicas[i%2], "wang", "spray", fmt.Sprintf("192.0.2.%d", i+1)), http.StatusUnauthorized, "invalid_credentials")
	}
	expect(logInFrom(t, a, "wang", "wang-secret", "192.0.2.200"), http.StatusTooManyRequests, "too_many_attempts")
	expect(logInFrom(t, b, "wang", "wang-secret", home), http.StatusOK, "")
	expect(logInFrom(t, a, "wang", "wang-secret", office), http.StatusOK, "")
}

// TestLoginThrottleForwardedFor: without a trusted proxy, X-Forwarded-For
// is the client's to write and is not believed: every failure counts for
// the peer's address.
func TestLoginThrottleForwardedFor(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	for i := range 10 {
		if got := logInFrom(t, a, "admin", "wrong", fmt.Sprintf("10.0.0.%d", i)); got.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, got.status)
		}
	}
	if got := logInFrom(t, a, "admin", servertest.AdminPassword, "10.0.0.200"); got.status != http.StatusTooManyRequests {
		t.Errorf("a made-up X-Forwarded-For escaped the throttle: %d", got.status)
	}
}
