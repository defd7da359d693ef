package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

func TestOperations(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	a.Must(http.StatusOK, "GET", "/healthz", "", nil)
	a.Must(http.StatusOK, "GET", "/readyz", "", nil)
	a.Do("GET", "/api/v1/venues", a.Admin, nil)
	m := a.Must(http.StatusOK, "GET", "/metrics", "", nil)
	for _, want := range []string{`examd_http_requests_total{method="GET",route="/api/v1/venues",status="200"}`, "examd_http_request_duration_seconds_bucket", "examd_websocket_connections 0"} {
		if !strings.Contains(string(m.Raw), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	r := a.Do("GET", "/healthz", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("healthz: %d", r.Status)
	}
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)

	t.Run("BadPassword", func(t *testing.T) {
		r := a.Do("POST", "/api/v1/login", "", map[string]any{"username": "admin", "password": "wrong-password"})
		if r.Status != http.StatusUnauthorized || r.Code() != "invalid_credentials" {
			t.Fatalf("got %d %s, want 401 invalid_credentials", r.Status, r.Raw)
		}
	})
	t.Run("UnknownUser", func(t *testing.T) {
		r := a.Do("POST", "/api/v1/login", "", map[string]any{"username": "nobody", "password": "whatever-pw"})
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("got %d, want 401", r.Status)
		}
	})
	t.Run("NoToken", func(t *testing.T) {
		for _, tok := range []string{"", "not-a-token"} {
			r := a.Do("GET", "/api/v1/venues", tok, nil)
			if r.Status != http.StatusUnauthorized || r.Code() != "unauthorized" {
				t.Fatalf("token %q: got %d %s, want 401", tok, r.Status, r.Raw)
			}
		}
	})
	t.Run("WrongRole", func(t *testing.T) {
		examiner := a.Staff("examiner")
		r := a.Do("POST", "/api/v1/venues", examiner, map[string]any{"name": "x"})
		if r.Status != http.StatusForbidden || r.Code() != "forbidden" {
			t.Fatalf("got %d %s, want 403 forbidden", r.Status, r.Raw)
		}
		r = a.Do("POST", "/api/v1/users", examiner, map[string]any{"username": "x", "password": "12345678", "role": "admin"})
		if r.Status != http.StatusForbidden {
			t.Fatalf("examiner creating a user: got %d, want 403", r.Status)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		tok := a.Login("admin", servertest.AdminPassword)
		a.Must(http.StatusOK, "GET", "/api/v1/venues", tok, nil)
		a.Must(http.StatusNoContent, "POST", "/api/v1/logout", tok, nil)
		if r := a.Do("GET", "/api/v1/venues", tok, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("after logout: got %d, want 401", r.Status)
		}
	})
	t.Run("Users", func(t *testing.T) {
		venue := a.NewVenue(a.Admin, false)
		r := a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
			map[string]any{"username": "desk3", "password": "issuer-pw1", "role": "issuer", "desk": "3号窗口"})
		if r.ID() == 0 {
			t.Fatalf("no id in %s", r.Raw)
		}
		a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
			map[string]any{"username": "exam1", "password": "examiner-pw", "role": "examiner", "venue_id": venue})
		cases := []struct {
			name   string
			body   map[string]any
			status int
			code   string
			field  string
		}{
			{"Duplicate", map[string]any{"username": "desk3", "password": "issuer-pw1", "role": "issuer"}, 409, "duplicate_username", "username"},
			{"ShortPassword", map[string]any{"username": "u1", "password": "short", "role": "issuer"}, 422, "invalid_field", "password"},
			{"UnknownRole", map[string]any{"username": "u1", "password": "long-enough", "role": "pilot"}, 422, "invalid_field", "role"},
			{"CandidateRole", map[string]any{"username": "u1", "password": "long-enough", "role": "candidate"}, 422, "invalid_field", "role"},
			{"UnknownVenue", map[string]any{"username": "u1", "password": "long-enough", "role": "examiner", "venue_id": 999999}, 422, "invalid_field", "venue_id"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := a.Do("POST", "/api/v1/users", a.Admin, tc.body)
				if r.Status != tc.status || r.Code() != tc.code || r.Field() != tc.field {
					t.Fatalf("got %d %s, want %d %s field %s", r.Status, r.Raw, tc.status, tc.code, tc.field)
				}
			})
		}
		if r := a.Do("POST", "/api/v1/login", "", map[string]any{"username": "u1", "password": "long-enough"}); r.Status != 401 {
			t.Fatalf("a refused user was created anyway: %d", r.Status)
		}
	})
}

func TestRequestConventions(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"Malformed", `{"name": "x",`, 400, "malformed_json", ""},
		{"Empty", ``, 400, "malformed_json", ""},
		{"NotAnObject", `[1,2]`, 422, "invalid_field", "body"},
		{"UnknownField", map[string]any{"name": "x", "colour": "red"}, 422, "invalid_field", "colour"},
		{"WrongType", map[string]any{"name": 12}, 422, "invalid_field", "name"},
		{"Missing", map[string]any{"address": "x"}, 422, "invalid_field", "name"},
		{"TooLarge", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "body_too_large", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.Do("POST", "/api/v1/venues", a.Admin, tc.body)
			if r.Status != tc.status || r.Code() != tc.code || r.Field() != tc.field {
				t.Fatalf("got %d %.200s, want %d %s field %q", r.Status, r.Raw, tc.status, tc.code, tc.field)
			}
		})
	}
	vs := a.Must(http.StatusOK, "GET", "/api/v1/venues", a.Admin, nil)
	if n := len(vs.Body["venues"].([]any)); n != 0 {
		t.Fatalf("refused requests created %d venues", n)
	}
	if r := a.Do("GET", "/api/v1/nothing-here", a.Admin, nil); r.Status != 404 || r.Code() != "not_found" {
		t.Fatalf("unknown route: got %d %s", r.Status, r.Raw)
	}
}

// TestHostileInput sends what PostgreSQL would choke on: every answer is a
// clear 4xx, never a 500.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 9, nil)
	c := a.NewCandidate(sched, nil)
	cases := []struct {
		name, method, path, token string
		body                      any
		header                    []string
		status                    int
	}{
		{"NULInName", "POST", "/api/v1/venues", sched, `{"name":"a\u0000b"}`, nil, 422},
		{"NULInLogin", "POST", "/api/v1/login", "", `{"username":"ad\u0000min","password":"x"}`, nil, 422},
		{"EscapedBackslashIsFine", "POST", "/api/v1/venues", sched, `{"name":"a\\u0000b"}`, nil, 201},
		{"YearZero", "POST", "/api/v1/candidates", sched, map[string]any{"id_number": testkit.IDNumber(99), "name": "x", "phone": "13800138000", "licence_class": "C1", "permit_issued_on": "0000-01-01", "permit_expires_on": "0002-01-01", "password": "candidate-pw"}, nil, 422},
		{"FarInstant", "POST", "/api/v1/slots", sched, map[string]any{"venue_id": venue, "subject": 2, "licence_class": "C1", "capacity": 1, "starts_at": "9999-01-01T08:00:00+08:00", "ends_at": "9999-01-01T09:00:00+08:00"}, nil, 422},
		{"HugeSlotID", "POST", "/api/v1/bookings", c.Token, `{"slot_ids":[9223372036854775807]}`, nil, 422},
		{"OverflowSlotID", "POST", "/api/v1/bookings", c.Token, `{"slot_ids":[1e30]}`, nil, 422},
		{"HugeCapacity", "POST", "/api/v1/slots", sched, `{"venue_id":1,"subject":2,"licence_class":"C1","capacity":99999999999999999999,"starts_at":"2030-01-01T08:00:00+08:00","ends_at":"2030-01-01T09:00:00+08:00"}`, nil, 422},
		{"NULInQuery", "GET", "/api/v1/slots?licence_class=C%001", c.Token, nil, nil, 422},
		{"BadUTF8InQuery", "GET", "/api/v1/slots?licence_class=%ff", c.Token, nil, nil, 422},
		{"NULInReason", "DELETE", "/api/v1/bookings/1?reason=a%00b", sched, nil, nil, 422},
		{"NonASCIIKey", "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}}, []string{"Idempotency-Key", "钥匙"}, 422},
		{"HugePathID", "GET", "/api/v1/bookings/99999999999999999999999", c.Token, nil, nil, 404},
		{"NegativePathID", "GET", "/api/v1/slots/-1", c.Token, nil, nil, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.Do(tc.method, tc.path, tc.token, tc.body, tc.header...)
			if r.Status != tc.status {
				t.Fatalf("got %d %s, want %d", r.Status, r.Raw, tc.status)
			}
		})
	}
}

// TestReviewedEdges covers what a review found: PostgreSQL's integer and
// microsecond limits, and a body limit of exactly 1 MiB.
func TestReviewedEdges(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	if r := a.Do("GET", "/api/v1/slots?venue_id=3000000000", sched, nil); r.Status != 200 || len(r.Body["slots"].([]any)) != 0 {
		t.Errorf("venue id beyond int4: got %d %s", r.Status, r.Raw)
	}
	r := a.Do("POST", "/api/v1/slots", sched, map[string]any{"venue_id": venue, "subject": 2, "licence_class": "C1", "capacity": 1,
		"starts_at": "2030-01-01T09:00:00.0000001+08:00", "ends_at": "2030-01-01T09:00:00.0000002+08:00"})
	if r.Status != 422 || r.Field() != "ends_at" {
		t.Errorf("nanosecond-apart slot: got %d %s, want 422 ends_at", r.Status, r.Raw)
	}
	// Just under 1 MiB is read (and refused for its content), not cut off.
	big := `{"name":"` + strings.Repeat("x", 1020000) + `"}`
	if r := a.Do("POST", "/api/v1/venues", sched, big); r.Status != 422 || r.Field() != "name" {
		t.Errorf("a 1,020,000-byte body: got %d %.100s, want 422 name", r.Status, r.Raw)
	}
	if r := a.Do("POST", "/api/v1/venues", sched, `{"address":"x","name":"a\u0000b"}`); r.Status != 422 || r.Field() != "name" {
		t.Errorf("NUL: got %d %s, want 422 naming name", r.Status, r.Raw)
	}
}

// TestInvalidUTF8: a body whose text is not UTF-8 answers 400 malformed_json
// on every route that stores text, and a query parameter that reaches storage
// 422 invalid_field; nothing is stored (encoding/json would have stored
// U+FFFD in place of each bad byte).
func TestInvalidUTF8(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 20, 9, nil)
	c := a.NewCandidate(sched, nil)
	booking := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}}).Body["bookings"].([]any)[0].(map[string]any)["id"]
	count := func(table string) (n int) {
		t.Helper()
		if err := a.DB.Get(&n, `SELECT count(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tables := []string{"venues", "candidates", "users", "bookings", "slots", "devices", "priority_grants"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = count(tb)
	}
	bad := "\xff\xfe"
	cases := []struct {
		name, method, path, token string
		body                      string
		status                    int
		code                      string
	}{
		{"Venue", "POST", "/api/v1/venues", sched, `{"name":"第二` + bad + `考场","address":"x"}`, 400, "malformed_json"},
		{"VenueSurrogate", "POST", "/api/v1/venues", sched, `{"name":"\ud800考场"}`, 400, "malformed_json"},
		{"Candidate", "POST", "/api/v1/candidates", sched, `{"id_number":"` + testkit.IDNumber(424242) + `","name":"张` + bad + `","phone":"13800138000","licence_class":"C1","permit_issued_on":"` + a.Day(-60).Format(time.DateOnly) + `","permit_expires_on":"` + a.Day(300).Format(time.DateOnly) + `","subject1_passed_on":"` + a.Day(-61).Format(time.DateOnly) + `","password":"candidate-pw"}`, 400, "malformed_json"},
		{"Booking", "POST", "/api/v1/bookings", sched, fmt.Sprintf(`{"slot_ids":[%d],"candidate_id":%d,"x":"%s"}`, slot, c.ID, bad), 400, "malformed_json"},
		{"User", "POST", "/api/v1/users", a.Admin, `{"username":"u` + bad + `","password":"long-enough","role":"scheduler"}`, 400, "malformed_json"},
		{"Device", "POST", "/api/v1/devices", a.Admin, fmt.Sprintf(`{"venue_id":%d,"name":"车%s"}`, venue, bad), 400, "malformed_json"},
		{"Priority", "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", c.ID), sched, `{"reason":"disability","needs":[],"note":"` + bad + `"}`, 400, "malformed_json"},
		{"Login", "POST", "/api/v1/login", "", `{"username":"admin","password":"` + bad + `"}`, 400, "malformed_json"},
		{"CancelReason", "DELETE", fmt.Sprintf("/api/v1/bookings/%v?reason=%%ff", booking), sched, "", 422, "invalid_field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := a.Do(tc.method, tc.path, tc.token, body)
			if r.Status != tc.status || r.Code() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}
	for _, tb := range tables {
		if n := count(tb); n != before[tb] {
			t.Errorf("%s: %d rows, want %d", tb, n, before[tb])
		}
	}
	var replaced int
	if err := a.DB.Get(&replaced, `SELECT count(*) FROM venues WHERE name LIKE '%'||U&'\FFFD'||'%'`); err != nil || replaced != 0 {
		t.Errorf("%d venues hold U+FFFD (%v)", replaced, err)
	}
	if r := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/bookings/%v", booking), sched, nil); r.Body["status"] != "confirmed" {
		t.Errorf("booking: %s", r.Raw)
	}
}
