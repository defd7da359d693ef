package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// floor is what the writes a round must make cost PostgreSQL alone, with no
// examd in between, on the bench's own cluster and data, so that examd's
// time reads against it as a ratio (as the rush reads against pgbench's
// minimal booking).
type floor struct {
	// Schema: examd's tables, with their keys, checks, foreign keys and
	// indexes. Bare: the same rows into plain tables with only a primary
	// key, the lowest any design that stores them could reach.
	Schema, Bare floorTimes
}

// floorTimes are the statements of one floor transaction, in order.
type floorTimes struct {
	Decisions, Bookings, Audit, Notes time.Duration
}

func (t floorTimes) total() time.Duration { return t.Decisions + t.Bookings + t.Audit + t.Notes }

func (t floorTimes) String() string {
	return fmt.Sprintf("%.2fs (decisions %.2f, bookings %.2f, audit %.2f, notes %.2f)", t.total().Seconds(),
		t.Decisions.Seconds(), t.Bookings.Seconds(), t.Audit.Seconds(), t.Notes.Seconds())
}

// floorRound is a plausible round's results, placed by a plain greedy pass
// (applications in id order, each into its first option with seats left):
// not the ranking, only rows of the same number and shape as examd writes.
type floorRound struct {
	aID, aRank, aPref        []int64
	aStatus, aBasis, aReason []string
	// bookings: application, candidate, slot, subject, day, booked by
	bApp, bCand, bSlot, bSubject, bBy []int64
	bDay                              []string
	notesCand                         []int64
	notesZH, notesEN                  []string
}

// placeFloor reads the applications and places them greedily.
func placeFloor(ctx context.Context, db *sqlx.DB) (floorRound, error) {
	var opts []struct {
		App       int64  `db:"app"`
		Candidate int64  `db:"candidate_id"`
		Pref      int64  `db:"preference"`
		Slot      int64  `db:"slot_id"`
		Subject   int64  `db:"subject"`
		Day       string `db:"day"`
		Left      int    `db:"left"`
	}
	if err := db.SelectContext(ctx, &opts, `
		SELECT o.application_id AS app, a.candidate_id, o.preference, o.slot_id, s.subject,
		       to_char(s.starts_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day, s.capacity - s.booked AS left
		FROM application_options o JOIN applications a ON a.id = o.application_id JOIN slots s ON s.id = o.slot_id
		WHERE a.status = 'applied' ORDER BY o.application_id, o.preference, o.half`); err != nil {
		return floorRound{}, fmt.Errorf("floor: read options: %w", err)
	}
	left := map[int64]int{}
	for _, o := range opts {
		left[o.Slot] = o.Left
	}
	var r floorRound
	for i := 0; i < len(opts); {
		j := i
		for j < len(opts) && opts[j].App == opts[i].App {
			j++
		}
		app := opts[i:j]
		placed := -1
		for k := 0; k < len(app); {
			n := k
			ok := true
			for n < len(app) && app[n].Pref == app[k].Pref {
				ok = ok && left[app[n].Slot] > 0
				n++
			}
			if ok {
				placed = k
				for _, o := range app[k:n] {
					left[o.Slot]--
					r.bApp = append(r.bApp, o.App)
					r.bCand, r.bSlot, r.bSubject, r.bBy = append(r.bCand, o.Candidate), append(r.bSlot, o.Slot),
						append(r.bSubject, o.Subject), append(r.bBy, o.Candidate)
					r.bDay = append(r.bDay, o.Day)
				}
				break
			}
			k = n
		}
		a := app[0]
		r.aID, r.aRank = append(r.aID, a.App), append(r.aRank, int64(len(r.aID)+1))
		r.aBasis = append(r.aBasis, "sort_time")
		r.notesCand = append(r.notesCand, a.Candidate)
		if placed >= 0 {
			r.aStatus, r.aPref, r.aReason = append(r.aStatus, "confirmed"), append(r.aPref, app[placed].Pref), append(r.aReason, "allocated")
			r.notesZH = append(r.notesZH, fmt.Sprintf("您的预约申请已分配：%s 科目二 08:00–10:00；排名第%d，已按第%d志愿分配。", a.Day, len(r.aID), app[placed].Pref))
			r.notesEN = append(r.notesEN, fmt.Sprintf("Your application was allocated: subject 2 on %s, 08:00–10:00; rank %d, allocated to preference %d.", a.Day, len(r.aID), app[placed].Pref))
		} else {
			r.aStatus, r.aPref, r.aReason = append(r.aStatus, "not_allocated"), append(r.aPref, 0), append(r.aReason, "preferences_full")
			r.notesZH = append(r.notesZH, fmt.Sprintf("您的科目二预约申请未分配：排名第%d，所选志愿均已满额。", len(r.aID)))
			r.notesEN = append(r.notesEN, fmt.Sprintf("Your application for subject 2 was not allocated: rank %d, all preferences full.", len(r.aID)))
		}
		i = j
	}
	return r, nil
}

// measureFloor times the round's writes in two transactions, both rolled
// back, on tables vacuumed first, then vacuums what they left dead, so that
// examd's round after it finds the tables as the floor did (but for the
// index pages the rolled-back inserts split, which VACUUM leaves: a small
// advantage to examd's round). Each write is one statement, as
// examd's round makes them: the decisions (an UPDATE of every application),
// the bookings with the slots' counts, their audit rows, and the notes
// (COPY).
func measureFloor(ctx context.Context, db *sqlx.DB, r floorRound) (floor, error) {
	var f floor
	const vacuum = `VACUUM (ANALYZE) applications, application_options, candidates, bookings, slots, audit_log, notifications`
	if _, err := db.ExecContext(ctx, vacuum); err != nil {
		return f, err
	}
	var err error
	if f.Schema, err = floorTx(ctx, db, r, false); err != nil {
		return f, err
	}
	if f.Bare, err = floorTx(ctx, db, r, true); err != nil {
		return f, err
	}
	_, err = db.ExecContext(ctx, vacuum)
	return f, err
}

func floorTx(ctx context.Context, db *sqlx.DB, r floorRound, bare bool) (floorTimes, error) {
	var t floorTimes
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return t, err
	}
	defer tx.Rollback()
	apps, bookings, audit, notes := "applications", "bookings", "audit_log", "notifications"
	if bare {
		// Plain copies, made before the clock starts: a primary key each and
		// no other index, check, foreign key or trigger.
		apps, bookings, audit, notes = "floor_applications", "floor_bookings", "floor_audit", "floor_notifications"
		for _, q := range []string{
			`CREATE TABLE floor_applications AS SELECT * FROM applications`,
			`ALTER TABLE floor_applications ADD PRIMARY KEY (id)`,
			`CREATE TABLE floor_bookings (LIKE bookings INCLUDING DEFAULTS)`,
			`ALTER TABLE floor_bookings ADD PRIMARY KEY (id)`,
			`CREATE TABLE floor_audit (LIKE audit_log INCLUDING DEFAULTS)`,
			`ALTER TABLE floor_audit ADD PRIMARY KEY (id)`,
			`CREATE TABLE floor_notifications (LIKE notifications INCLUDING DEFAULTS)`,
			`ALTER TABLE floor_notifications ADD PRIMARY KEY (id)`,
			`ANALYZE floor_applications`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return t, fmt.Errorf("floor: %s: %w", q, err)
			}
		}
	}
	step := func(d *time.Duration, q string, args ...any) error {
		start := time.Now()
		_, err := tx.ExecContext(ctx, q, args...)
		*d = time.Since(start)
		if err != nil {
			return fmt.Errorf("floor: %s: %w", q[:40], err)
		}
		return nil
	}
	if err := step(&t.Decisions, `
		UPDATE `+apps+` a SET status = d.status, rank = d.rank, basis = d.basis,
		       preference = nullif(d.preference, 0), reason = d.reason, decided_at = now()
		FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], $5::smallint[], $6::text[])
		     AS d (id, status, rank, basis, preference, reason)
		WHERE a.id = d.id`,
		pq.Array(r.aID), pq.Array(r.aStatus), pq.Array(r.aRank), pq.Array(r.aBasis), pq.Array(r.aPref), pq.Array(r.aReason)); err != nil {
		return t, err
	}
	// The bookings, with the slots' counts (in both: the bare floor writes
	// the same rows), their ids kept for their audit rows.
	var ids []int64
	start := time.Now()
	err = tx.SelectContext(ctx, &ids, `
		WITH n AS (
			SELECT nextval('bookings_id_seq') AS id, n.*
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::smallint[], $5::date[], $6::bigint[])
			     AS n (app, candidate_id, slot_id, subject, exam_day, booked_by)),
		paired AS (
			SELECT n.*, CASE WHEN count(*) OVER w = 2 THEN sum(id) OVER w - id END AS pair_id
			FROM n WINDOW w AS (PARTITION BY app)),
		seats AS (
			UPDATE slots SET booked = booked + k.n
			FROM (SELECT slot_id, count(*) AS n FROM n GROUP BY slot_id) k WHERE slots.id = k.slot_id)
		INSERT INTO `+bookings+` (id, candidate_id, slot_id, subject, exam_day, lane, booked_by, pair_id)
		SELECT id, candidate_id, slot_id, subject, exam_day, 'regular', booked_by, pair_id FROM paired
		RETURNING id`,
		pq.Array(r.bApp), pq.Array(r.bCand), pq.Array(r.bSlot), pq.Array(r.bSubject), pq.Array(r.bDay), pq.Array(r.bBy))
	t.Bookings = time.Since(start)
	if err != nil {
		return t, fmt.Errorf("floor: bookings: %w", err)
	}
	if err := step(&t.Audit, `
		INSERT INTO `+audit+` (actor_kind, action, subject, after)
		SELECT 'system', 'booking.created', 'booking:' || b.id,
		       jsonb_build_object('id', b.id, 'candidate_id', b.candidate_id, 'slot_id', b.slot_id,
		                          'subject', b.subject, 'pair_id', b.pair_id, 'status', 'confirmed', 'allocated', true)
		FROM `+bookings+` b WHERE b.id = ANY($1)`, pq.Array(ids)); err != nil {
		return t, err
	}
	start = time.Now()
	st, err := tx.PrepareContext(ctx, pq.CopyIn(notes, "candidate_id", "kind", "text_zh", "text_en", "link"))
	if err != nil {
		return t, fmt.Errorf("floor: notes: %w", err)
	}
	for i, c := range r.notesCand {
		kind := "application.not_allocated"
		if r.aStatus[i] == "confirmed" {
			kind = "application.allocated"
		}
		if _, err := st.ExecContext(ctx, c, kind, r.notesZH[i], r.notesEN[i], "/candidate/bookings"); err != nil {
			return t, fmt.Errorf("floor: notes: %w", err)
		}
	}
	if _, err := st.ExecContext(ctx); err != nil {
		return t, fmt.Errorf("floor: notes: %w", err)
	}
	if err := st.Close(); err != nil {
		return t, err
	}
	t.Notes = time.Since(start)
	return t, nil
}
