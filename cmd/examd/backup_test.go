package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/pg"
	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// backedUp are the tables whose rows a restore must give back as they were:
// the day's bookings, attempts and their events, the licences, the feeds
// and the audit chain.
var backedUp = []string{"candidates", "slots", "bookings", "attempts", "attempt_events", "attempt_signatures",
	"issuances", "issuance_tickets", "feed_topics", "feed_events", "audit_log", "audit_head"}

// contents is each table's rows, as text, in order.
func contents(t *testing.T, db *sqlx.DB) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, table := range backedUp {
		var rows string
		if err := db.Get(&rows, fmt.Sprintf(`SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t`, table)); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		m[table] = rows
	}
	return m
}

// tempDir is a folder the postgres user can traverse when the tests run as
// root, for a private cluster.
func tempDir(t *testing.T, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBackupRestore: a simulated day and a licence issued, a backup taken
// while examd serves, a restore into a fresh private cluster: the same
// bookings, attempts, licences, feeds and audit chain, which examd audit
// verify finds intact; examd then serves on the restored cluster, and a
// backup and a verify join it while it runs. A restore never writes over
// data.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.RunningClock(time.Date(2030, 6, 3, 9, 0, 0, 0, testkit.Shanghai))
	a := servertest.StartAt(t, clock)
	var out bytes.Buffer
	sim, cancel := context.WithTimeout(ctx, 25*time.Second)
	defer cancel()
	if err := simulate(sim, clock.Now, []string{"-url", a.URL, "-seed", "-admin-password", servertest.AdminPassword,
		"-speed", "5000", "-seed-random", "7"}, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("simulate: %v\n%s", err, out.Bytes())
	}
	h := servertest.NewHall(t, a)
	h.Issue(t, h.Ready(t))
	// The audit rows of the day chained now, not by examd's chainer between
	// the snapshots below (nor by the restored examd's).
	if err := audit.Flush(ctx, a.DB); err != nil {
		t.Fatal(err)
	}
	// And the day's notes put live on their candidates' feeds now, not by
	// examd's feeder between the snapshots.
	a.NotesLive(t)
	before := contents(t, a.DB)
	if strings.HasPrefix(before["issuances"], "0:") || strings.HasPrefix(before["attempts"], "0:") {
		t.Fatalf("nothing to back up: %v", before)
	}

	file := filepath.Join(t.TempDir(), "examd.dump")
	cmd := func(env map[string]string, args ...string) (string, error) {
		var out bytes.Buffer
		getenv := func(k string) string {
			if k == "PATH" {
				return os.Getenv(k) // the operator's: where the PostgreSQL programs are found
			}
			return env[k]
		}
		err := runOn(ctx, clock.Now, args, getenv, &out)
		return out.String(), err
	}
	onDB := map[string]string{"DATABASE_URL": a.DBURL}
	if out, err := cmd(onDB, "backup", "-o", file); err != nil {
		t.Fatalf("examd backup: %v\n%s", err, out)
	}

	// Into the database it came from, which holds data: refused, nothing changed.
	if out, err := cmd(onDB, "restore", file); !errors.Is(err, pg.ErrNotEmpty) {
		t.Fatalf("restore into a database with data: %v\n%s; want ErrNotEmpty", err, out)
	}
	if after := contents(t, a.DB); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a refused restore changed the database")
	}

	// Into a fresh private cluster.
	dir := tempDir(t, "examd-restore-")
	if out, err := cmd(nil, "restore", "-data", dir, file); err != nil {
		t.Fatalf("examd restore -data: %v\n%s", err, out)
	}
	if out, err := cmd(nil, "restore", "-data", dir, file); !errors.Is(err, pg.ErrNotEmpty) {
		t.Fatalf("a second restore into the same folder: %v\n%s; want ErrNotEmpty", err, out)
	}
	out2, err := cmd(nil, "audit", "verify", "-data", dir)
	if err != nil || !strings.Contains(out2, "audit log intact") {
		t.Fatalf("examd audit verify on the restored cluster: %v\n%s", err, out2)
	}

	// examd serves on the restored cluster; a backup and a verify join it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	serving, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		env := map[string]string{"EXAMD_ADDR": addr, "EXAMD_DATA_DIR": dir, "EXAMD_LOG_LEVEL": "warn"}
		done <- runOn(serving, clock.Now, nil, func(k string) string { return env[k] }, &bytes.Buffer{})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("examd on the restored cluster: %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("examd on the restored cluster is not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	again := filepath.Join(t.TempDir(), "again.dump")
	if out, err := cmd(nil, "backup", "-data", dir, "-o", again); err != nil {
		t.Fatalf("examd backup -data while examd runs there: %v\n%s", err, out)
	}
	if out, err := cmd(nil, "audit", "verify", "-data", dir); err != nil || !strings.Contains(out, "audit log intact") {
		t.Fatalf("examd audit verify -data while examd runs there: %v\n%s", err, out)
	}
	url, ok := pg.RunningURL(filepath.Join(dir, "pg"), "examd")
	if !ok {
		t.Fatal("no running cluster found under the restored folder")
	}
	restored, err := pg.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	after := contents(t, restored)
	for _, table := range backedUp {
		if after[table] != before[table] {
			t.Errorf("%s: restored %s, backed up %s", table, after[table], before[table])
		}
	}
	// The restored examd serves the restored day: the admin logs in.
	res, err := http.Post("http://"+addr+"/api/v1/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"`+servertest.AdminPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("admin login on the restored examd: %d", res.StatusCode)
	}
}

func TestBackupUsage(t *testing.T) {
	t.Parallel()
	none := func(string) string { return "" }
	for _, args := range [][]string{{"backup"}, {"backup", "-o", "x", "extra"}, {"restore"}, {"restore", "a", "b"}} {
		if err := run(context.Background(), args, none, &bytes.Buffer{}); err == nil {
			t.Errorf("examd %v: no error", args)
		}
	}
	if err := run(context.Background(), []string{"restore", filepath.Join(t.TempDir(), "missing.dump")}, none, &bytes.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), "missing.dump") {
		t.Errorf("restore of a missing file: %v", err)
	}
}
