package audit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/audit"
	"examd/internal/pg/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// record commits e in a transaction of its own.
func record(tb testing.TB, db *sqlx.DB, e audit.Entry) {
	tb.Helper()
	if err := recordTx(context.Background(), db, e); err != nil {
		tb.Fatal(err)
	}
}

// recordTx commits e in a transaction of its own; goroutines other than the
// test's may call it.
func recordTx(ctx context.Context, db *sqlx.DB, e audit.Entry) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := audit.Record(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

// seed commits n entries, one per transaction, and chains them: the one
// with chain_seq i (from 1) has subject "thing:i", and actors cycle through
// a user, a device and the system.
func seed(tb testing.TB, db *sqlx.DB, n int) {
	tb.Helper()
	seedUnchained(tb, db, n)
	flush(tb, db)
}

// seedUnchained is seed without chaining.
func seedUnchained(tb testing.TB, db *sqlx.DB, n int) {
	tb.Helper()
	for i := 1; i <= n; i++ {
		actor := []audit.Actor{audit.User(int64(i)), audit.Device(5), audit.System}[i%3]
		record(tb, db, audit.Entry{Actor: actor, Action: "thing.changed", Subject: fmt.Sprintf("thing:%d", i),
			Before: map[string]any{"n": i - 1}, After: map[string]any{"n": i, "name": "考生 №" + fmt.Sprint(i)}})
	}
}

// flush chains every committed entry, as the chainers of examd do.
func flush(tb testing.TB, db *sqlx.DB) {
	tb.Helper()
	if err := audit.Flush(context.Background(), db); err != nil {
		tb.Fatalf("Flush: %v", err)
	}
}

// tamper runs stmt as a superuser would to hide a change: with the audit
// log's triggers (and the head's) disabled.
func tamper(tb testing.TB, db *sqlx.DB, stmt string, args ...any) {
	tb.Helper()
	tx, err := db.Beginx()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	for _, s := range []string{
		`ALTER TABLE audit_log DISABLE TRIGGER USER`, `ALTER TABLE audit_head DISABLE TRIGGER USER`,
	} {
		if _, err := tx.Exec(s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	res, err := tx.Exec(stmt, args...)
	if err != nil {
		tb.Fatalf("tamper: %s: %v", stmt, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		tb.Fatalf("tamper: %s changed nothing", stmt)
	}
	for _, s := range []string{
		`ALTER TABLE audit_log ENABLE TRIGGER USER`, `ALTER TABLE audit_head ENABLE TRIGGER USER`,
	} {
		if _, err := tx.Exec(s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// verify runs audit.Verify, failing the test on an error.
func verify(tb testing.TB, db *sqlx.DB) audit.Report {
	tb.Helper()
	rep, err := audit.Verify(context.Background(), db, 0)
	if err != nil {
		tb.Fatalf("Verify: %v", err)
	}
	return rep
}

// mustIntact chains the committed entries and fails the test unless the
// log then verifies with rows rows, none unchained.
func mustIntact(tb testing.TB, db *sqlx.DB, rows int64) {
	tb.Helper()
	flush(tb, db)
	if rep := verify(tb, db); !rep.Intact() || rep.Rows != rows || rep.BrokenAt != 0 || len(rep.Head) != 64 || rep.Unchained != 0 || !rep.Sound() {
		tb.Fatalf("Verify = %+v, want intact with %d rows", rep, rows)
	}
}

// refused fails the test unless err is PostgreSQL refusing a change to an
// append-only table.
func refused(tb testing.TB, what string, err error) {
	tb.Helper()
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "23000" {
		tb.Fatalf("%s: got %v, want integrity_constraint_violation (23000)", what, err)
	}
}
