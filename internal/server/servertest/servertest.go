// Package servertest starts a whole examd in-process for a test, on a
// database of its own (pgtest) and on the clock the test chooses, and talks
// to its API: what every package's end-to-end tests share. A test binary
// that uses it runs pgtest.Main from its TestMain.
package servertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/pg/pgtest"
	"examd/internal/server"
	"examd/internal/testkit"
	"examd/realtime"
)

// AdminPassword is the password of the admin of every App.
const AdminPassword = "admin-secret-1"

// App is a running examd and a JSON client of its API.
type App struct {
	*testkit.Client
	DB    *sqlx.DB
	DBURL string
	Admin string           // the admin's token
	Now   func() time.Time // examd's clock
	log   *logBook
}

// logBook keeps every line examd logs.
type logBook struct {
	mu    sync.Mutex
	lines []string
}

// Logs returns every line examd has logged so far (JSON, one per line), for
// tests of what the log holds.
func (a *App) Logs() []string {
	a.log.mu.Lock()
	defer a.log.mu.Unlock()
	return append([]string(nil), a.log.lines...)
}

// Start runs examd on a database of its own, on the wall clock.
func Start(t testing.TB) *App {
	t.Helper()
	db, dbURL := pgtest.NewDB(t)
	return StartOn(t, db, dbURL)
}

// StartAt runs examd on a database of its own and on clock, which the test
// sets: a fixed date, a day's edge.
func StartAt(t testing.TB, clock *testkit.Clock) *App {
	t.Helper()
	db, dbURL := pgtest.NewDB(t)
	return StartClock(t, db, dbURL, clock.Now)
}

// StartReplica runs a second examd on the database of a.
func StartReplica(t testing.TB, a *App) *App {
	t.Helper()
	return StartOn(t, a.DB, a.DBURL)
}

// StartOn runs examd on an existing database, with settings (name, value,
// name, value ...) besides the harness's own.
func StartOn(t testing.TB, db *sqlx.DB, dbURL string, settings ...string) *App {
	t.Helper()
	return StartClock(t, db, dbURL, time.Now, settings...)
}

// StartClock is StartOn on the clock now. examd stops when the test ends.
func StartClock(t testing.TB, db *sqlx.DB, dbURL string, now func() time.Time, settings ...string) *App {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL":         dbURL,
		"EXAMD_ADDR":           "127.0.0.1:0",
		"EXAMD_ADMIN_PASSWORD": AdminPassword,
		"EXAMD_BCRYPT_COST":    "4",
	}
	for i := 0; i+1 < len(settings); i += 2 {
		env[settings[i]] = settings[i+1]
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := server.Run(ctx, now, nil, func(k string) string { return env[k] }, pw)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		done <- err
	}()
	addr := make(chan string, 1)
	book := &logBook{}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			book.mu.Lock()
			book.lines = append(book.lines, sc.Text())
			book.mu.Unlock()
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
		_, _ = io.Copy(io.Discard, pr) // a line over 1 MiB: never block examd's log
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
	var a *App
	select {
	case u, ok := <-addr:
		if !ok {
			t.Fatalf("examd exited before listening: %v", <-done)
		}
		a = &App{Client: &testkit.Client{T: t, URL: u}, DB: db, DBURL: dbURL, Now: now, log: book}
	case <-time.After(30 * time.Second):
		t.Fatalf("examd did not start within 30 s")
	}
	a.Admin = a.Login("admin", AdminPassword)
	return a
}

// seq makes the names of a test binary's users and candidates unique.
var seq atomic.Int64

// Staff creates a user with role and returns their token.
func (a *App) Staff(role string) string {
	a.T.Helper()
	name := fmt.Sprintf("%s%d", role, seq.Add(1))
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
		map[string]any{"username": name, "password": "staff-secret", "role": role})
	return a.Login(name, "staff-secret")
}

// Day returns the date d days from today in Asia/Shanghai, by a's clock.
func (a *App) Day(d int) time.Time { return testkit.Day(a.Now(), d) }

// Candidate is a registered candidate and their token.
type Candidate struct {
	ID    int64
	IDNo  string
	Token string
}

// NewCandidate registers a C1 candidate whose permit was issued 60 days ago
// (past every BK-WAIT) and logs them in. Fields in over replace the defaults.
func (a *App) NewCandidate(token string, over map[string]any) Candidate {
	a.T.Helper()
	n := int(seq.Add(1))
	body := map[string]any{
		"id_number": testkit.IDNumber(n), "name": "考生" + fmt.Sprint(n), "phone": "13800138000",
		"licence_class":      "C1",
		"permit_issued_on":   a.Day(-60).Format(time.DateOnly),
		"permit_expires_on":  a.Day(-60).AddDate(3, 0, 0).Format(time.DateOnly),
		"subject1_passed_on": a.Day(-61).Format(time.DateOnly),
		"password":           "candidate-pw",
	}
	for k, v := range over {
		body[k] = v
	}
	r := a.Must(http.StatusCreated, "POST", "/api/v1/candidates", token, body)
	c := Candidate{ID: r.ID(), IDNo: body["id_number"].(string)}
	c.Token = a.Login(c.IDNo, "candidate-pw")
	return c
}

// NewVenue publishes a venue.
func (a *App) NewVenue(token string, stepFree bool) int64 {
	a.T.Helper()
	return a.Must(http.StatusCreated, "POST", "/api/v1/venues", token,
		map[string]any{"name": "第一考场", "address": "长安街1号", "step_free": stepFree}).ID()
}

// NewSlot publishes a C1 slot d days ahead from hh:00 to hh+2:00 with 10
// seats; fields in over replace the defaults.
func (a *App) NewSlot(token string, venue int64, subject, d, hh int, over map[string]any) int64 {
	a.T.Helper()
	start := a.Day(d).Add(time.Duration(hh) * time.Hour)
	body := map[string]any{
		"venue_id": venue, "subject": subject, "licence_class": "C1",
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(2 * time.Hour).Format(time.RFC3339),
		"capacity": 10, "priority_reserved": 0, "adapted_vehicle": false,
	}
	for k, v := range over {
		body[k] = v
	}
	return a.Must(http.StatusCreated, "POST", "/api/v1/slots", token, body).ID()
}

// Next is a number no other call in the test binary returns: for unique
// names.
func Next() int64 { return seq.Add(1) }

// NotesLive waits until examd's notes' feeder has put every committed note
// on its candidate's feed, then numbers the feeds: a test that reads the
// feeds, or compares the database before and after, reads them settled.
func (a *App) NotesLive(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting bool
		if err := a.DB.Get(&waiting, `SELECT EXISTS (SELECT FROM notifications WHERE fed_at IS NULL)`); err != nil {
			t.Fatal(err)
		}
		if !waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("notes still not live after 10 s")
		}
	}
	if err := realtime.NewFeed(a.DB).Number(context.Background()); err != nil {
		t.Fatal(err)
	}
}
