package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/pg/pgtest"
)

// busyLog records n entries from 8 concurrent writers, each entry in its own
// transaction.
func busyLog(t *testing.T, db *sqlx.DB, n int) {
	t.Helper()
	const writers = 8
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				tx, err := db.BeginTxx(ctx, nil)
				if err != nil {
					t.Error(err)
					return
				}
				err = audit.Record(ctx, tx, audit.Entry{Actor: audit.User(int64(w + 1)), Action: "booking.created",
					Subject: fmt.Sprintf("booking:%d", i), After: map[string]any{"slot": i % 7, "name": "考生"}})
				if err == nil {
					err = tx.Commit()
				}
				if err != nil {
					tx.Rollback()
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if err := audit.Flush(ctx, db); err != nil { // as examd's chainer would
		t.Fatal(err)
	}
}

// verifyCommand runs examd audit verify with env through run and returns
// its output and error.
func verifyCommand(env map[string]string, args ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"audit", "verify"}, args...), func(k string) string { return env[k] }, &out)
	return out.String(), err
}

func TestAuditVerifyCommand(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	env := map[string]string{"DATABASE_URL": url}
	busyLog(t, db, 400)

	out, err := verifyCommand(env)
	if err != nil || !strings.Contains(out, "audit log intact: 400 rows") {
		t.Fatalf("examd audit verify on an intact log: %v, output %q; want no error and intact: 400 rows", err, out)
	}

	// A superuser edits row 300 (past Verify's first page) behind the triggers' back.
	if _, err := db.Exec(`ALTER TABLE audit_log DISABLE TRIGGER USER;
		UPDATE audit_log SET after = '{"slot": 0, "name": "someone else"}' WHERE chain_seq = 300;
		ALTER TABLE audit_log ENABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	out, err = verifyCommand(env)
	if err == nil || !strings.Contains(out, "audit log broken at row 300: ") || !strings.Contains(err.Error(), "300") {
		t.Fatalf("examd audit verify after an edit: %v, output %q; want an error and broken at row 300", err, out)
	}

	t.Run("ExitStatus", func(t *testing.T) {
		// The real binary, as an operator runs it: exit status 1 when broken.
		gocmd, err := exec.LookPath("go")
		if err != nil {
			t.Fatalf("the go command, to build examd: %v", err)
		}
		bin := filepath.Join(t.TempDir(), "examd")
		if out, err := exec.Command(gocmd, "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		cmd := exec.Command(bin, "audit", "verify")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+url)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "audit log broken at row 300") {
			t.Fatalf("examd audit verify: %v, output %q; want exit status 1 and broken at row 300", err, out)
		}
	})
}

// TestAuditVerifyStale: rows committed but left unchained longer than
// -stale (no examd chains them) fail the check, naming the oldest; fresh
// ones are only counted.
func TestAuditVerifyStale(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	env := map[string]string{"DATABASE_URL": url}
	busyLog(t, db, 3)
	if _, err := db.Exec(`INSERT INTO audit_log (at, actor_kind, action, subject) VALUES
		(clock_timestamp() - interval '2 minutes', 'system', 'thing.changed', 'thing:old'),
		(clock_timestamp(), 'system', 'thing.changed', 'thing:new')`); err != nil {
		t.Fatal(err)
	}
	var old int64
	if err := db.Get(&old, `SELECT id FROM audit_log WHERE subject = 'thing:old'`); err != nil {
		t.Fatal(err)
	}
	out, err := verifyCommand(env)
	if err == nil || !strings.Contains(out, "audit log intact: 3 rows") || !strings.Contains(out, "2 rows not chained yet") ||
		!strings.Contains(out, fmt.Sprintf("audit log stale: 1 rows unchained for more than 1m0s, the oldest id %d", old)) {
		t.Fatalf("examd audit verify with a row unchained for 2 minutes: %v, output %q; want an error naming row id %d", err, out, old)
	}
	out, err = verifyCommand(env, "-stale", "5m")
	if err != nil || !strings.Contains(out, "2 rows not chained yet") || strings.Contains(out, "stale") {
		t.Fatalf("examd audit verify -stale 5m: %v, output %q; want no error", err, out)
	}
}

func TestAuditVerifyPrivateCluster(t *testing.T) {
	t.Parallel()
	// A folder the postgres user can traverse when the tests run as root.
	dir, err := os.MkdirTemp("", "examd-audit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	if err := run(context.Background(), []string{"-data", dir, "migrate"}, func(k string) string { return env[k] }, &bytes.Buffer{}); err != nil {
		t.Fatalf("examd migrate on a private cluster: %v", err)
	}
	out, err := verifyCommand(env, "-data", dir)
	if err != nil || !strings.Contains(out, "audit log intact: 0 rows") {
		t.Fatalf("examd audit verify -data: %v, output %q; want intact: 0 rows", err, out)
	}
}

func TestAuditVerifyUsage(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": "host=/nonexistent dbname=none"}
	for _, args := range [][]string{{"audit"}, {"audit", "check"}, {"audit", "verify", "now"}, {"audit", "verify", "-frobnicate"}, {"audit", "verify", "-stale", "0"}} {
		if err := run(context.Background(), args, func(k string) string { return env[k] }, &bytes.Buffer{}); err == nil {
			t.Errorf("examd %s: no error", strings.Join(args, " "))
		}
	}
	// A database without the audit log says how to get one.
	db, url := pgtest.NewDB(t)
	if _, err := db.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	_, err := verifyCommand(map[string]string{"DATABASE_URL": url})
	if err == nil || !strings.Contains(err.Error(), "examd migrate") {
		t.Errorf("verify on an unmigrated database: %v, want a hint to run examd migrate", err)
	}
}
