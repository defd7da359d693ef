package audit_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/pg/pgtest"
)

// newChainer returns a chainer of db that polls every 2 ms, batch rows at a
// time.
func newChainer(db *sqlx.DB, batch int) *audit.Chainer {
	c := audit.NewChainer(db, slog.New(slog.DiscardHandler))
	c.Every, c.Batch = 2*time.Millisecond, batch
	return c
}

// ownPool opens a second pool on the database of url: a chainer of its own
// process, as another replica would run.
func ownPool(tb testing.TB, url string) *sqlx.DB {
	tb.Helper()
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// unchained counts the committed rows not chained yet.
func unchained(tb testing.TB, db *sqlx.DB) int {
	tb.Helper()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM audit_log WHERE chain_seq IS NULL`); err != nil {
		tb.Fatal(err)
	}
	return n
}

// holdLock takes the chainer's advisory lock in a transaction of its own,
// as a chainer in the middle of a batch holds it; release ends it.
func holdLock(tb testing.TB, db *sqlx.DB) (release func()) {
	tb.Helper()
	tx, err := db.Beginx()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT pg_advisory_xact_lock(audit_chain_lock())`); err != nil {
		tb.Fatal(err)
	}
	return func() { tx.Rollback() }
}

// TestChainerWritesAreNotChained: a business transaction leaves its rows
// unchained and the head alone; the chainer links them.
func TestChainerWritesAreNotChained(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	seedUnchained(t, db, 3)
	var head int64
	if err := db.Get(&head, `SELECT seq FROM audit_head`); err != nil || head != 0 {
		t.Fatalf("head after three writes: %d (%v), want 0: the writes touched it", head, err)
	}
	if n := unchained(t, db); n != 3 {
		t.Fatalf("%d unchained rows, want 3", n)
	}
	b, err := newChainer(db, 100).Step(context.Background(), false)
	if err != nil || !b.Got || b.Linked != 3 || b.First != 1 || b.Last != 3 || b.Lag != 0 {
		t.Fatalf("Step = %+v, %v; want rows 1 to 3 linked and no lag", b, err)
	}
	mustIntact(t, db, 3)
}

// TestChainerRunsWhileWritersCommit: rows committed while chainers run, on
// two pools as two replicas would, are each chained exactly once; the
// batches of the two never overlap, and each holds the lock alone.
func TestChainerRunsWhileWritersCommit(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var (
		mu      sync.Mutex
		batches = map[string][]audit.Batch{}
		wg      sync.WaitGroup
	)
	for _, name := range []string{"one", "two"} {
		c := newChainer(ownPool(t, url), 5)
		wg.Go(func() {
			c.RunBatches(ctx, func(b audit.Batch) {
				mu.Lock()
				defer mu.Unlock()
				batches[name] = append(batches[name], b)
			})
		})
	}
	// Meanwhile another session keeps asking for the lock: it never gets it
	// while a chainer holds it, which pg_locks shows as one holder at most.
	wg.Go(func() {
		for ctx.Err() == nil {
			var holders int
			if err := db.GetContext(ctx, &holders, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
				AND (classid::bigint << 32) + objid::bigint = audit_chain_lock()`); err != nil && ctx.Err() == nil {
				t.Error(err)
			}
			if holders > 1 {
				t.Errorf("%d sessions hold the chainer's lock", holders)
			}
			time.Sleep(time.Millisecond)
		}
	})

	const writers, each = 8, 40
	var writes sync.WaitGroup
	for w := range writers {
		writes.Go(func() {
			for i := range each {
				if err := recordTx(ctx, db, audit.Entry{Actor: audit.User(int64(w + 1)), Action: "booking.created",
					Subject: fmt.Sprintf("booking:%d:%d", w, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writes.Wait()
	// The chainers catch up on their own: no row waits for a notification.
	deadline := time.Now().Add(10 * time.Second)
	for unchained(t, db) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if n := unchained(t, db); n != 0 {
		t.Fatalf("%d rows still unchained 10 s after the last write", n)
	}

	var all []audit.Batch
	for name, bs := range batches {
		t.Logf("chainer %s: %d batches", name, len(bs))
		last := int64(0)
		for _, b := range bs {
			if b.Linked > 0 && b.First <= last {
				t.Errorf("chainer %s: batch %+v after row %d", name, b, last)
			}
			last = max(last, b.Last)
		}
		all = append(all, bs...)
	}
	slices.SortFunc(all, func(a, b audit.Batch) int { return int(a.First - b.First) })
	next := int64(1)
	for _, b := range all {
		if b.Linked == 0 {
			continue
		}
		if b.First != next || b.Last-b.First+1 != int64(b.Linked) || b.Linked > 5 {
			t.Fatalf("batch %+v: want rows %d on, at most 5, each once", b, next)
		}
		next = b.Last + 1
	}
	if next != writers*each+1 {
		t.Fatalf("the batches linked rows 1 to %d, want 1 to %d", next-1, writers*each)
	}
	mustIntact(t, db, writers*each)
}

// TestChainerLock: while another session holds the chainer's lock (another
// replica's batch), a chainer links nothing and does not wait; it links
// once the lock is free. Flush waits for it.
func TestChainerLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	seedUnchained(t, db, 4)
	release := holdLock(t, db)
	c := newChainer(db, 100)
	b, err := c.Step(ctx, false)
	if err != nil || b.Got || b.Linked != 0 || b.Lag <= 0 {
		t.Fatalf("Step while the lock is held: %+v, %v; want nothing linked and a lag", b, err)
	}
	if c.Lag() <= 0 {
		t.Errorf("Lag() = %v while rows wait, want more than 0", c.Lag())
	}
	flushed := make(chan error, 1)
	go func() { flushed <- audit.Flush(ctx, db) }()
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned %v while another held the lock", err)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	b, err = c.Step(ctx, false)
	if err != nil || !b.Got || b.Linked != 0 || b.Lag != 0 || c.Lag() != 0 {
		t.Fatalf("Step after Flush: %+v, %v, Lag() %v; want the lock, nothing left and no lag", b, err, c.Lag())
	}
	mustIntact(t, db, 4)
}

// TestChainerOutOfIdOrder: a row whose transaction commits after rows with
// higher ids were chained is chained after them; the chain verifies.
func TestChainerOutOfIdOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	late, err := db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback()
	if err := audit.Record(ctx, late, audit.Entry{Actor: audit.System, Action: "thing.changed", Subject: "thing:late"}); err != nil {
		t.Fatal(err)
	}
	record(t, db, audit.Entry{Actor: audit.System, Action: "thing.changed", Subject: "thing:early"})
	flush(t, db)
	if err := late.Commit(); err != nil {
		t.Fatal(err)
	}
	record(t, db, audit.Entry{Actor: audit.System, Action: "thing.changed", Subject: "thing:last"})
	var ids []string
	if err := db.Select(&ids, `SELECT subject FROM audit_log ORDER BY id`); err != nil || !slices.Equal(ids, []string{"thing:late", "thing:early", "thing:last"}) {
		t.Fatalf("subjects by id %v (%v)", ids, err)
	}
	if seqs := chainSeqs(t, db); seqs["thing:early"] != 1 || seqs["thing:late"] != 2 || seqs["thing:last"] != 3 {
		t.Fatalf("chain %v, want early, late, last", seqs)
	}
	mustIntact(t, db, 3)
}

// TestChainerTampered: the guard lets the chain columns of an unchained row
// be set only to the next link; Verify catches a row edited after the
// chainer linked it.
func TestChainerTampered(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	seed(t, db, 3)
	seedUnchained(t, db, 1)
	for _, stmt := range []string{
		// Content changed while linking.
		`UPDATE audit_log SET chain_seq = 4, prev_hash = (SELECT hash FROM audit_head), hash = sha256('x'), subject = 'thing:9' WHERE chain_seq IS NULL`,
		// A hash that is not the row's.
		`UPDATE audit_log SET chain_seq = 4, prev_hash = (SELECT hash FROM audit_head), hash = sha256('x') WHERE chain_seq IS NULL`,
		// The right hash, at the wrong place.
		`UPDATE audit_log SET chain_seq = 5, prev_hash = (SELECT hash FROM audit_head),
			hash = sha256(audit_content((id, at, actor_kind, actor_id, action, subject, before, after, 5, NULL, NULL)::audit_log)
				|| (SELECT hash FROM audit_head)) WHERE chain_seq IS NULL`,
		// Linked after a row that is not the head.
		`UPDATE audit_log SET chain_seq = 4, prev_hash = (SELECT hash FROM audit_log WHERE chain_seq = 2),
			hash = sha256(audit_content((id, at, actor_kind, actor_id, action, subject, before, after, 4, NULL, NULL)::audit_log)
				|| (SELECT hash FROM audit_log WHERE chain_seq = 2)) WHERE chain_seq IS NULL`,
		// Relinking a chained row.
		`UPDATE audit_log SET chain_seq = 4 WHERE chain_seq = 3`,
	} {
		_, err := db.Exec(stmt)
		refused(t, stmt, err)
	}
	mustIntact(t, db, 4)
	tamper(t, db, `UPDATE audit_log SET subject = 'thing:0' WHERE chain_seq = 4`)
	if rep := verify(t, db); rep.BrokenAt != 4 || rep.Rows != 3 {
		t.Fatalf("Verify = %+v, want broken at row 4", rep)
	}
}

// TestVerifyStale: Verify counts the rows waiting for the chainer, and
// reports those waiting longer than its threshold; it links none of them.
func TestVerifyStale(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	seed(t, db, 2)
	record(t, db, audit.Entry{Actor: audit.System, Action: "thing.changed", Subject: "thing:fresh"})
	rep := verify(t, db)
	if !rep.Sound() || rep.Rows != 2 || rep.Unchained != 1 || rep.Stale != 0 || rep.OldestAge <= 0 || rep.OldestAge > time.Minute {
		t.Fatalf("Verify with a fresh unchained row: %+v, want sound, 1 unchained, none stale", rep)
	}
	// A row from two minutes ago that no chainer linked.
	if _, err := db.Exec(`INSERT INTO audit_log (at, actor_kind, action, subject)
		VALUES (clock_timestamp() - interval '2 minutes', 'system', 'thing.changed', 'thing:old')`); err != nil {
		t.Fatal(err)
	}
	var old int64
	if err := db.Get(&old, `SELECT id FROM audit_log WHERE subject = 'thing:old'`); err != nil {
		t.Fatal(err)
	}
	rep = verify(t, db)
	if !rep.Intact() || rep.Sound() || rep.Unchained != 2 || rep.Stale != 1 || rep.OldestStale != old || rep.OldestAge < 2*time.Minute {
		t.Fatalf("Verify with a row unchained for 2 minutes: %+v, want intact, not sound, 1 stale (id %d)", rep, old)
	}
	if rep, err := audit.Verify(ctx, db, 3*time.Minute); err != nil || !rep.Sound() || rep.Stale != 0 {
		t.Fatalf("Verify with a threshold of 3 minutes: %+v, %v; want sound", rep, err)
	}
	if n := unchained(t, db); n != 2 {
		t.Fatalf("%d rows unchained after Verify, want 2: Verify changes nothing", n)
	}
	mustIntact(t, db, 4)
}

// TestLinkStatement: rows linked together by one UPDATE (as the chainer's
// batch does) are checked together against the head: every link must
// follow the one before it in the same statement, and a statement that
// links correctly moves the head once, to its last row.
func TestLinkStatement(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	seed(t, db, 3)
	seedUnchained(t, db, 2)
	// link links the two unchained rows (lower id first) at seqs a and b:
	// the first after prevA, the second after prevB, each with the hash of
	// its own content at its seq (the right hash for a wrong place).
	link := func(a, b int, prevA, prevB string) string {
		return fmt.Sprintf(`
			WITH u AS (
				SELECT r.*, sha256(audit_content((r.id, r.at, r.actor_kind, r.actor_id, r.action, r.subject, r.before, r.after,
				                                  %[1]d, NULL, NULL)::audit_log) || %[3]s) AS h1
				FROM audit_log r WHERE r.chain_seq IS NULL ORDER BY r.id LIMIT 1),
			v AS (
				SELECT r.*, sha256(audit_content((r.id, r.at, r.actor_kind, r.actor_id, r.action, r.subject, r.before, r.after,
				                                  %[2]d, NULL, NULL)::audit_log) || %[4]s) AS h2
				FROM audit_log r, u WHERE r.chain_seq IS NULL AND r.id > u.id ORDER BY r.id LIMIT 1)
			UPDATE audit_log a SET chain_seq = x.seq, prev_hash = x.prev, hash = x.h
			FROM (SELECT u.id, %[1]d AS seq, %[3]s AS prev, u.h1 AS h FROM u
			      UNION ALL
			      SELECT v.id, %[2]d, %[4]s, v.h2 FROM v) x
			WHERE a.id = x.id`, a, b, prevA, prevB)
	}
	head := `(SELECT hash FROM audit_head)`
	firstHash := `(SELECT h1 FROM u)`
	for _, c := range []struct{ what, stmt string }{
		{"both after the head", link(4, 5, head, head)},
		{"a gap between them", link(4, 6, head, firstHash)},
		{"starting after the head", link(5, 6, head, firstHash)},
	} {
		_, err := db.Exec(c.stmt)
		refused(t, c.what, err)
	}
	if n := unchained(t, db); n != 2 {
		t.Fatalf("unchained = %d after refused links, want 2", n)
	}
	// Linked right, by hand: accepted, the head at the second row.
	res, err := db.Exec(link(4, 5, head, firstHash))
	if err != nil {
		t.Fatalf("a right link of two rows: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("linked %d rows, want 2", n)
	}
	var seq int64
	if err := db.Get(&seq, `SELECT seq FROM audit_head WHERE hash = (SELECT hash FROM audit_log WHERE chain_seq = 5)`); err != nil || seq != 5 {
		t.Fatalf("head seq = %d (%v), want 5 with the hash of row 5", seq, err)
	}
	mustIntact(t, db, 5)
}
