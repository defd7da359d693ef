package audit_test

import (
	"strings"
	"testing"

	"examd/internal/pg/pgtest"
)

func TestVerify(t *testing.T) {
	t.Parallel()

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		mustIntact(t, db, 0)
	})

	// Each case edits a log of 10 rows behind the triggers' back, as a
	// superuser can; Verify must name the first row the edit breaks.
	cases := []struct {
		name string
		sql  string
		want int64
	}{
		{"EditedAfter", `UPDATE audit_log SET after = '{"n": 5, "name": "someone else"}' WHERE chain_seq = 5`, 5},
		{"EditedBeforeToNull", `UPDATE audit_log SET before = NULL WHERE chain_seq = 8`, 8},
		{"EditedActor", `UPDATE audit_log SET actor_id = actor_id + 1 WHERE chain_seq = 4`, 4},
		{"EditedActorKind", `UPDATE audit_log SET actor_kind = 'user' WHERE chain_seq = 7 AND actor_kind = 'device'`, 7},
		{"EditedAtByOneMicrosecond", `UPDATE audit_log SET at = at + interval '1 microsecond' WHERE chain_seq = 7`, 7},
		{"EditedAction", `UPDATE audit_log SET action = 'thing.viewed' WHERE chain_seq = 1`, 1},
		{"EditedSubject", `UPDATE audit_log SET subject = 'thing:99' WHERE chain_seq = 9`, 9},
		{"EditedHash", `UPDATE audit_log SET hash = sha256(hash) WHERE chain_seq = 6`, 6},
		{"EditedPrevHash", `UPDATE audit_log SET prev_hash = sha256(prev_hash) WHERE chain_seq = 3`, 3},
		// Row 5 rewritten with a hash that matches: the link from row 6 breaks.
		{"RehashedRow", `UPDATE audit_log SET after = '{"n": 0}',
			hash = sha256(audit_content((id, at, actor_kind, actor_id, action, subject, before, '{"n": 0}'::jsonb,
				chain_seq, prev_hash, NULL)::audit_log) || prev_hash) WHERE chain_seq = 5`, 6},
		{"DeletedMiddle", `DELETE FROM audit_log WHERE chain_seq = 5`, 5},
		{"DeletedFirst", `DELETE FROM audit_log WHERE chain_seq = 1`, 1},
		{"DeletedLast", `DELETE FROM audit_log WHERE chain_seq = 10`, 10},
		{"Renumbered", `UPDATE audit_log SET chain_seq = chain_seq + 100 WHERE chain_seq >= 9`, 9},
		{"HeadBehind", `UPDATE audit_head SET seq = 9`, 10},
		{"HeadHash", `UPDATE audit_head SET hash = sha256(hash)`, 10},
		// A row slipped in at the end with the head moved on, its hash made up.
		{"InsertedForged", `INSERT INTO audit_log (actor_kind, actor_id, action, subject, chain_seq, prev_hash, hash)
			SELECT 'user', 1, 'thing.forged', 'thing:11', 11, hash, sha256('forged') FROM audit_head`, 11},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db, _ := pgtest.NewDB(t)
			seed(t, db, 10)
			mustIntact(t, db, 10)
			tamper(t, db, c.sql)
			rep := verify(t, db)
			if rep.Intact() || rep.BrokenAt != c.want || rep.Reason == "" || rep.Head != "" {
				t.Fatalf("Verify = %+v, want broken at row %d", rep, c.want)
			}
			t.Logf("row %d: %s", rep.BrokenAt, rep.Reason)
		})
	}

	t.Run("AcrossPages", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		seed(t, db, 600) // Verify reads 256 rows at a time
		mustIntact(t, db, 600)
		tamper(t, db, `UPDATE audit_log SET after = '{"n": 0}' WHERE chain_seq = 513`)
		if rep := verify(t, db); rep.BrokenAt != 513 || rep.Rows != 512 || !strings.Contains(rep.Reason, "content") {
			t.Fatalf("Verify = %+v, want broken at row 513 after 512 sound rows", rep)
		}
	})
}
