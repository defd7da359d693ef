package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/pg/pgtest"
	"examd/internal/testkit"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// app is a running examd on its own fresh database.
type app struct {
	t     testing.TB
	url   string
	db    *sqlx.DB
	dbURL string
	admin string           // the admin's token
	now   func() time.Time // examd's clock
}

const adminPassword = "admin-secret-1"

// startApp runs examd through run, as main does, on a database of its own.
func startApp(t testing.TB) *app {
	t.Helper()
	db, dbURL := pgtest.NewDB(t)
	return startOn(t, db, dbURL)
}

// startAt runs examd on a database of its own and on clock, which the test
// sets: a fixed date, a day's edge.
func startAt(t testing.TB, clock *testkit.Clock) *app {
	t.Helper()
	db, dbURL := pgtest.NewDB(t)
	return startClock(t, db, dbURL, clock.Now)
}

// startReplica runs a second examd on the database of a.
func startReplica(t testing.TB, a *app) *app {
	t.Helper()
	return startOn(t, a.db, a.dbURL)
}

// startOn runs examd on an existing database, with settings (name, value,
// name, value ...) besides the harness's own.
func startOn(t testing.TB, db *sqlx.DB, dbURL string, settings ...string) *app {
	t.Helper()
	return startClock(t, db, dbURL, time.Now, settings...)
}

// startClock is startOn on the clock now.
func startClock(t testing.TB, db *sqlx.DB, dbURL string, now func() time.Time, settings ...string) *app {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL":         dbURL,
		"EXAMD_ADDR":           "127.0.0.1:0",
		"EXAMD_ADMIN_PASSWORD": adminPassword,
		"EXAMD_BCRYPT_COST":    "4",
	}
	for i := 0; i+1 < len(settings); i += 2 {
		env[settings[i]] = settings[i+1]
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := runOn(ctx, now, nil, func(k string) string { return env[k] }, pw)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		done <- err
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Addr != "" {
				addr <- line.Addr
			}
			if bytes.Contains(sc.Bytes(), []byte(`"level":"ERROR"`)) {
				fmt.Fprintf(os.Stderr, "examd logged: %s\n", sc.Bytes()) // a 500 is a bug: show why
			}
		}
		close(addr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("examd did not stop within 15 s")
		}
	})
	var a *app
	select {
	case u, ok := <-addr:
		if !ok {
			t.Fatalf("examd exited before listening: %v", <-done)
		}
		a = &app{t: t, url: u, db: db, dbURL: dbURL, now: now}
	case <-time.After(30 * time.Second):
		t.Fatalf("examd did not start within 30 s")
	}
	a.admin = a.login("admin", adminPassword)
	return a
}

// response is a decoded JSON answer.
type response struct {
	Status int
	Body   map[string]any
	Raw    []byte
}

func (r response) code() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r response) field() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["field"].(string)
	return s
}

func (r response) id() int64 {
	v, _ := r.Body["id"].(float64)
	return int64(v)
}

// do sends a request with an optional bearer token; body is JSON-encoded
// unless it is a string, which is sent as it is.
func (a *app) do(method, path, token string, body any, header ...string) response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := response{Status: res.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// must is do that fails the test unless the status is want.
func (a *app) must(want int, method, path, token string, body any, header ...string) response {
	a.t.Helper()
	r := a.do(method, path, token, body, header...)
	if r.Status != want {
		a.t.Fatalf("%s %s: got %d %s, want %d", method, path, r.Status, r.Raw, want)
	}
	return r
}

func (a *app) login(user, password string) string {
	a.t.Helper()
	r := a.must(http.StatusOK, "POST", "/api/v1/login", "", map[string]any{"username": user, "password": password})
	return r.Body["token"].(string)
}

// staff creates a user with role and returns their token.
func (a *app) staff(role string) string {
	a.t.Helper()
	name := fmt.Sprintf("%s%d", role, seq.Add(1))
	a.must(http.StatusCreated, "POST", "/api/v1/users", a.admin,
		map[string]any{"username": name, "password": "staff-secret", "role": role})
	return a.login(name, "staff-secret")
}

var seq atomic.Int64

// day returns the date d days from today in Asia/Shanghai, by the wall
// clock: for apps that run on it (startApp).
func day(d int) time.Time { return testkit.Day(time.Now(), d) }

// day returns the date d days from today in Asia/Shanghai, by a's clock.
func (a *app) day(d int) time.Time { return testkit.Day(a.now(), d) }

var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// candidate is a registered candidate and their token.
type candidate struct {
	ID    int64
	IDNo  string
	Token string
}

// newCandidate registers a C1 candidate whose permit was issued 60 days ago
// (past every BK-WAIT) and logs them in. Fields in over replace the defaults.
func (a *app) newCandidate(token string, over map[string]any) candidate {
	a.t.Helper()
	n := int(seq.Add(1))
	body := map[string]any{
		"id_number": testkit.IDNumber(n), "name": "考生" + fmt.Sprint(n), "phone": "13800138000",
		"licence_class":      "C1",
		"permit_issued_on":   a.day(-60).Format(time.DateOnly),
		"permit_expires_on":  a.day(-60).AddDate(3, 0, 0).Format(time.DateOnly),
		"subject1_passed_on": a.day(-61).Format(time.DateOnly),
		"password":           "candidate-pw",
	}
	for k, v := range over {
		body[k] = v
	}
	r := a.must(http.StatusCreated, "POST", "/api/v1/candidates", token, body)
	c := candidate{ID: r.id(), IDNo: body["id_number"].(string)}
	c.Token = a.login(c.IDNo, "candidate-pw")
	return c
}

func (a *app) newVenue(token string, stepFree bool) int64 {
	a.t.Helper()
	return a.must(http.StatusCreated, "POST", "/api/v1/venues", token,
		map[string]any{"name": "第一考场", "address": "长安街1号", "step_free": stepFree}).id()
}

// newSlot publishes a slot d days ahead from hh:00 to hh+2:00; fields in over replace the defaults.
func (a *app) newSlot(token string, venue int64, subject, d, hh int, over map[string]any) int64 {
	a.t.Helper()
	start := a.day(d).Add(time.Duration(hh) * time.Hour)
	body := map[string]any{
		"venue_id": venue, "subject": subject, "licence_class": "C1",
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(2 * time.Hour).Format(time.RFC3339),
		"capacity": 10, "priority_reserved": 0, "adapted_vehicle": false,
	}
	for k, v := range over {
		body[k] = v
	}
	return a.must(http.StatusCreated, "POST", "/api/v1/slots", token, body).id()
}
