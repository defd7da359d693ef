package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/pg/pgtest"
)

func TestRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		ok := audit.Entry{Actor: audit.User(3), Action: "booking.created", Subject: "booking:12"}
		cases := map[string]func(e *audit.Entry){
			"UnknownKind":  func(e *audit.Entry) { e.Actor = audit.Actor{Kind: "robot", ID: 1} },
			"NoKind":       func(e *audit.Entry) { e.Actor = audit.Actor{} },
			"UserWithout":  func(e *audit.Entry) { e.Actor = audit.User(0) },
			"DeviceNeg":    func(e *audit.Entry) { e.Actor = audit.Device(-4) },
			"SystemWithID": func(e *audit.Entry) { e.Actor = audit.Actor{Kind: audit.KindSystem, ID: 2} },
			"NoAction":     func(e *audit.Entry) { e.Action = "" },
			"BlankSubject": func(e *audit.Entry) { e.Subject = "  " },
			"BadBefore":    func(e *audit.Entry) { e.Before = make(chan int) },
			"BadAfter":     func(e *audit.Entry) { e.After = func() {} },
		}
		for name, spoil := range cases {
			e := ok
			spoil(&e)
			if err := audit.Record(ctx, db, e); err == nil {
				t.Errorf("%s: Record(%+v) = nil, want an error", name, e)
			}
		}
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM audit_log`); err != nil || n != 0 {
			t.Fatalf("%d rows (%v) after refused entries, want 0", n, err)
		}
		record(t, db, ok)
		mustIntact(t, db, 1)
	})

	t.Run("RollbackLeavesNothing", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.System, Action: "day.closed", Subject: fmt.Sprintf("day:%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM audit_log`); err != nil || n != 0 {
			t.Fatalf("%d rows (%v) after a rollback, want 0", n, err)
		}
		var head struct {
			Seq  int64  `db:"seq"`
			Hash []byte `db:"hash"`
		}
		if err := db.Get(&head, `SELECT seq, hash FROM audit_head`); err != nil {
			t.Fatal(err)
		}
		if head.Seq != 0 || !bytes.Equal(head.Hash, make([]byte, 32)) {
			t.Fatalf("head after a rollback: seq %d hash %x, want 0 and zeros", head.Seq, head.Hash)
		}
		record(t, db, audit.Entry{Actor: audit.System, Action: "day.closed", Subject: "day:9"})
		if seqs := chainSeqs(t, db); !maps.Equal(seqs, map[string]int64{"day:9": 1}) {
			t.Fatalf("chain after a rollback and a commit: %v, want day:9 at 1", seqs)
		}
		mustIntact(t, db, 1)
	})

	t.Run("CommitOrder", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		// A records first and commits last: the chain follows the commits
		// as the chainer sees them, not the ids. B must not wait for A, even
		// on the very first entry of the log.
		a, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Rollback()
		if err := audit.Record(ctx, a, audit.Entry{Actor: audit.User(1), Action: "booking.created", Subject: "booking:a"}); err != nil {
			t.Fatal(err)
		}
		bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := recordTx(bctx, db, audit.Entry{Actor: audit.User(2), Action: "booking.created", Subject: "booking:b"}); err != nil {
			t.Fatalf("B, committed while A is open: %v (blocked by A?)", err)
		}
		flush(t, db) // B is chained, A is not committed yet
		if err := audit.Record(ctx, a, audit.Entry{Actor: audit.User(1), Action: "booking.cancelled", Subject: "booking:c"}); err != nil {
			t.Fatal(err)
		}
		if err := a.Commit(); err != nil {
			t.Fatal(err)
		}
		flush(t, db)
		want := map[string]int64{"booking:b": 1, "booking:a": 2, "booking:c": 3}
		if got := chainSeqs(t, db); !maps.Equal(got, want) {
			t.Fatalf("chain_seq by subject %v, want %v", got, want)
		}
		mustIntact(t, db, 3)
	})

	t.Run("ConcurrentGapFree", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		const writers, each = 16, 25
		// A chainer links rows while they are committed.
		chainer := audit.NewChainer(db, slog.New(slog.DiscardHandler))
		chainer.Every, chainer.Batch = 2*time.Millisecond, 7
		cctx, stop := context.WithCancel(ctx)
		chained := make(chan struct{})
		go func() { defer close(chained); chainer.Run(cctx) }()
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					e := audit.Entry{Actor: audit.Device(int64(w + 1)), Action: "attempt.item",
						Subject: fmt.Sprintf("attempt:%d:%d", w, i), After: map[string]int{"item": i}}
					if err := recordTx(ctx, db, e); err != nil {
						t.Errorf("writer %d: %v", w, err)
						return
					}
				}
			})
		}
		wg.Wait()
		stop()
		<-chained
		if t.Failed() {
			t.FailNow()
		}
		seqs := chainSeqs(t, db)
		got := make([]int64, 0, len(seqs))
		for _, s := range seqs {
			got = append(got, s)
		}
		slices.Sort(got)
		for i, s := range got {
			if s != int64(i+1) {
				t.Fatalf("chain_seqs %v...: not 1..%d without gaps", got[:i+1], writers*each)
			}
		}
		if len(got) != writers*each {
			t.Fatalf("%d chained rows, want %d", len(got), writers*each)
		}
		// Each writer committed its entries one after the other.
		for w := range writers {
			for i := 1; i < each; i++ {
				if a, b := seqs[fmt.Sprintf("attempt:%d:%d", w, i-1)], seqs[fmt.Sprintf("attempt:%d:%d", w, i)]; a >= b {
					t.Fatalf("writer %d: entry %d has chain_seq %d, entry %d has %d", w, i-1, a, i, b)
				}
			}
		}
		mustIntact(t, db, writers*each)
	})

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		before := time.Now()
		type state struct {
			Status string   `json:"status"`
			Name   string   `json:"name"`
			Tags   []string `json:"tags"`
		}
		record(t, db, audit.Entry{Actor: audit.User(3), Action: "booking.created", Subject: "booking:12",
			After: state{Status: "confirmed", Name: "王小明 \"Ming\" <b>", Tags: []string{"c1", "优先"}}})
		record(t, db, audit.Entry{Actor: audit.System, Action: "booking.cancelled", Subject: "booking:12",
			Before: json.RawMessage(`{"status": "confirmed"}`), After: json.RawMessage(`null`)})
		flush(t, db)
		rows, next, err := audit.List(ctx, db, audit.Filter{})
		if err != nil || next != 0 || len(rows) != 2 {
			t.Fatalf("List = %d rows, next %d, %v; want 2 rows and no next page", len(rows), next, err)
		}
		cancelled, created := rows[0], rows[1]
		if created.ChainSeq != 1 || created.Actor != audit.User(3) || created.Action != "booking.created" || created.Subject != "booking:12" {
			t.Errorf("created = %+v", created)
		}
		if created.Before != nil {
			t.Errorf("created.Before = %s, want none", created.Before)
		}
		var got state
		if err := json.Unmarshal(created.After, &got); err != nil || got.Name != "王小明 \"Ming\" <b>" || got.Tags[1] != "优先" {
			t.Errorf("created.After = %s (%v)", created.After, err)
		}
		if created.At.Before(before.Add(-time.Second)) || created.At.After(time.Now().Add(time.Second)) || !cancelled.At.After(created.At) {
			t.Errorf("at %v then %v, want now and increasing", created.At, cancelled.At)
		}
		if cancelled.Actor != audit.System || string(cancelled.Before) != `{"status": "confirmed"}` || cancelled.After != nil {
			t.Errorf("cancelled = %+v, want the system, before as given and no after (JSON null)", cancelled)
		}
		if cancelled.PrevHash != created.Hash || len(created.Hash) != 64 || created.PrevHash != fmt.Sprintf("%064d", 0) {
			t.Errorf("hashes: created %s after %s, cancelled after %s", created.Hash, created.PrevHash, cancelled.PrevHash)
		}
		var nulls int
		if err := db.Get(&nulls, `SELECT count(*) FROM audit_log WHERE after IS NULL`); err != nil || nulls != 1 {
			t.Errorf("%d rows with SQL NULL after (%v), want 1", nulls, err)
		}
	})
}

func TestAppendOnly(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	seed(t, db, 3)
	for _, stmt := range []string{
		`UPDATE audit_log SET after = '{"n": 99}' WHERE chain_seq = 2`,
		`UPDATE audit_log SET hash = sha256(hash) WHERE chain_seq = 2`,
		`UPDATE audit_log SET chain_seq = NULL, prev_hash = NULL, hash = NULL WHERE chain_seq = 3`,
		`DELETE FROM audit_log WHERE chain_seq = 3`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		`UPDATE audit_head SET seq = seq - 1`,
		`UPDATE audit_head SET seq = seq + 1`,
		`DELETE FROM audit_head`,
		`TRUNCATE audit_head`,
		// A row inserted already linked, at the head's next seq (it would
		// jam the chainer) or anywhere.
		`INSERT INTO audit_log (actor_kind, action, subject, chain_seq, prev_hash, hash)
			VALUES ('system', 'x.y', 'x:1', 4, (SELECT hash FROM audit_head), sha256('x'))`,
		`INSERT INTO audit_log (actor_kind, action, subject, hash) VALUES ('system', 'x.y', 'x:1', sha256('x'))`,
	} {
		_, err := db.Exec(stmt)
		refused(t, stmt, err)
	}
	// Nor from a trigger of the user's making (on a temporary table, which
	// anyone may create): the head moves only onto a link that exists.
	for _, move := range []string{
		`UPDATE audit_head SET seq = seq + 1000, hash = sha256('x')`,
		`UPDATE audit_head SET seq = seq + 1, hash = (SELECT hash FROM audit_log WHERE chain_seq = 2)`,
	} {
		forge, err := db.Beginx()
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []string{
			`CREATE TEMPORARY TABLE poke (x int)`,
			`CREATE FUNCTION pg_temp.poke() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ` + move + `; RETURN NULL; END $$`,
			`CREATE TRIGGER poke AFTER INSERT ON poke FOR EACH ROW EXECUTE FUNCTION pg_temp.poke()`,
		} {
			if _, err := forge.Exec(stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		_, err = forge.Exec(`INSERT INTO poke VALUES (1)`)
		refused(t, "moving the head from a trigger: "+move, err)
		forge.Rollback()
	}
	// Not even the transaction that recorded an entry may chain it itself.
	tx, err := db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := audit.Record(context.Background(), tx, audit.Entry{Actor: audit.System, Action: "x.y", Subject: "x:1"}); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(`UPDATE audit_log SET chain_seq = 4, prev_hash = sha256(''), hash = sha256('x') WHERE chain_seq IS NULL`)
	refused(t, "chaining by hand", err)
	tx.Rollback()
	mustIntact(t, db, 3)
}

// chainSeqs chains the committed entries and returns the chain_seq of each
// row by subject.
func chainSeqs(tb testing.TB, db *sqlx.DB) map[string]int64 {
	tb.Helper()
	flush(tb, db)
	var rows []struct {
		Subject  string `db:"subject"`
		ChainSeq int64  `db:"chain_seq"`
	}
	if err := db.Select(&rows, `SELECT subject, chain_seq FROM audit_log`); err != nil {
		tb.Fatal(err)
	}
	m := make(map[string]int64, len(rows))
	for _, r := range rows {
		m[r.Subject] = r.ChainSeq
	}
	return m
}
