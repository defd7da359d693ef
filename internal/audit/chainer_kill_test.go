package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/pg/pgtest"
)

// TestChainerKilledMidBatch: a chainer whose batch is stopped half done,
// by its context or by its backend being terminated, leaves every row
// unchained (the links it made roll back with its transaction), the log
// verifies meanwhile, and another chainer then links every row exactly once.
//
// The batch is held half done by a session that locks the sixth row: the
// chainer has linked rows 1 to 5 in its transaction and waits for the row
// lock. A terminated backend's batch is re-run by database/sql on a new
// connection (lib/pq reports the FATAL admin_shutdown as driver.ErrBadConn,
// and database/sql tries a statement up to three times on that error),
// which waits for the same row lock again: the test terminates each attempt
// until the chainer's call returns, checking the log at each.
func TestChainerKilledMidBatch(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"cancel", "terminate"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			const rows = 10
			db, url := pgtest.NewDB(t)
			seedUnchained(t, db, rows)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			holder, err := db.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Rollback()
			var holderPid int
			if err := holder.GetContext(ctx, &holderPid, `SELECT pg_backend_pid() FROM audit_log WHERE subject = 'thing:6' FOR UPDATE`); err != nil {
				t.Fatal(err)
			}

			killed := newChainer(ownPool(t, url), 100)
			kctx, kill := context.WithCancel(ctx)
			defer kill()
			returned := make(chan error, 1)
			go func() {
				b, err := killed.Step(kctx, false)
				if err == nil {
					err = errors.New("the batch returned no error")
					t.Errorf("the killed chainer's Step = %+v", b)
				}
				returned <- err
			}()

			var (
				stepErr error
				gone    = pq.Int64Array{} // the backends killed
			)
			for kills := 1; ; kills++ {
				pid, done := midBatch(ctx, t, db, holderPid, gone, returned)
				if done != nil {
					stepErr = *done
					t.Logf("%s: Step returned after %d kill(s): %v", how, kills-1, stepErr)
					break
				}
				if kills > 1 && how == "cancel" {
					t.Fatalf("the batch runs again after the cancel")
				}
				if kills > 5 {
					t.Fatalf("the chainer's batch still runs after %d kills", kills-1)
				}
				stillUnchained(t, db, rows)
				// The lock is the killed chainer's until its transaction ends.
				if b, err := newChainer(db, 100).Step(ctx, false); err != nil || b.Got || b.Linked != 0 {
					t.Fatalf("another chainer's Step during the batch: %+v, %v; want the lock refused", b, err)
				}
				gone = append(gone, int64(pid))
				if how == "cancel" {
					kill()
				} else if _, err := db.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
					t.Fatal(err)
				}
			}
			if how == "cancel" && !errors.Is(stepErr, context.Canceled) && !pgCode(stepErr, "57014") {
				t.Errorf("Step after the cancel: %v, want the statement cancelled", stepErr)
			}
			// The killed batch's transaction is gone, its lock with it.
			waitGone(ctx, t, db)
			stillUnchained(t, db, rows)
			if err := holder.Rollback(); err != nil {
				t.Fatal(err)
			}

			// Another chainer takes over: every row, once, in one batch.
			b, err := newChainer(db, 100).Step(ctx, false)
			if err != nil || !b.Got || b.Linked != rows || b.First != 1 || b.Last != rows || b.Lag != 0 {
				t.Fatalf("the next chainer's Step = %+v, %v; want rows 1 to %d linked", b, err, rows)
			}
			var distinct int
			if err := db.GetContext(ctx, &distinct, `SELECT count(DISTINCT chain_seq) FROM audit_log`); err != nil || distinct != rows {
				t.Fatalf("%d distinct chain_seq (%v), want %d", distinct, err, rows)
			}
			mustIntact(t, db, rows)
			// And the killed chainer, restarted, finds nothing left to do.
			if b, err := killed.Step(ctx, false); err != nil || !b.Got || b.Linked != 0 {
				t.Fatalf("the killed chainer's next Step = %+v, %v; want nothing left", b, err)
			}
		})
	}
}

// midBatch waits until a chainer's batch waits for the row lock of the
// session holderPid, with the first five rows linked in its transaction,
// and returns the batch's backend pid (one not in gone, the backends killed
// already); or until the chainer's call returns its error on returned.
func midBatch(ctx context.Context, tb testing.TB, db *sqlx.DB, holderPid int, gone pq.Int64Array, returned <-chan error) (int, *error) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-returned:
			return 0, &err
		default:
		}
		var r []struct {
			Pid    int `db:"pid"`
			Linked int `db:"linked"`
		}
		// The rows the batch updated carry its transaction id as xmax.
		err := db.SelectContext(ctx, &r, `SELECT a.pid,
				(SELECT count(*) FROM audit_log l WHERE l.xmax::text = a.backend_xid::text) AS linked
			FROM pg_stat_activity a
			WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
				AND a.query LIKE '%FROM audit_chain_batch(%' AND a.wait_event_type = 'Lock'
				AND pg_blocking_pids(a.pid) = ARRAY[$1]::int[] AND a.pid <> ALL ($2::int[])`, holderPid, gone)
		if err != nil {
			tb.Fatal(err)
		}
		if len(r) == 1 {
			if r[0].Linked != 5 {
				tb.Fatalf("the batch waits with %d rows linked, want 5", r[0].Linked)
			}
			return r[0].Pid, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			tb.Fatalf("10 s on, the chainer's Step has not returned and no batch of it waits for the sixth row (%d found)", len(r))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGone waits until no backend runs a chainer's batch.
func waitGone(ctx context.Context, tb testing.TB, db *sqlx.DB) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := db.GetContext(ctx, &n, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()
				AND state = 'active' AND query LIKE '%FROM audit_chain_batch(%'`); err != nil {
			tb.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			tb.Fatalf("%d chainer's batches still run 10 s after the kill", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stillUnchained fails the test unless all n rows are committed unchained,
// the head untouched and the log verifies.
func stillUnchained(tb testing.TB, db *sqlx.DB, n int) {
	tb.Helper()
	if u := unchained(tb, db); u != n {
		tb.Fatalf("%d rows unchained, want all %d: a half batch was seen", u, n)
	}
	var head int64
	if err := db.Get(&head, `SELECT seq FROM audit_head`); err != nil || head != 0 {
		tb.Fatalf("head at %d (%v), want 0", head, err)
	}
	if rep := verify(tb, db); !rep.Intact() || rep.Rows != 0 || rep.Unchained != int64(n) {
		tb.Fatalf("Verify during the kill = %+v, want intact, nothing chained, %d unchained", rep, n)
	}
}

// pgCode reports whether err is a PostgreSQL error of the code.
func pgCode(err error, code string) bool {
	var e *pq.Error
	return errors.As(err, &e) && string(e.Code) == code
}
