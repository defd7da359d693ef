package scheduling

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/audit"
	"examd/internal/notify"
)

// allocationLock is the advisory lock a round of allocation holds for its
// transaction: one round at a time across replicas.
const allocationLock = 0x52414e4b // "RANK"

// Round is what one allocation did.
type Round struct {
	// Slots are the slots allocated together, by id.
	Slots []int64 `json:"slot_ids"`
	// Seed is the RA-TIE seed: the round's lowest slot id.
	Seed         int64 `json:"seed"`
	Applications int   `json:"applications"`
	Confirmed    int   `json:"confirmed"`
}

// AllocateDue allocates, in one round, every ranked slot whose window has
// closed at now and that is not allocated yet, with every ranked slot their
// applications list (see allocateRound). It is the job's step: when another
// replica holds the allocation lock it does nothing and reports false; with
// no slot due it reports true and an empty round.
func (s *Store) AllocateDue(ctx context.Context, now time.Time) (Round, bool, error) {
	return s.allocate(ctx, 0, audit.System, now, false)
}

// AllocateSlot allocates slot id now, on a scheduler's request: before the
// window closes it closes it early (and that of every slot allocated with
// it). A slot allocated already is refused with ErrAlreadyAllocated, an
// instant one with ErrNotRanked.
func (s *Store) AllocateSlot(ctx context.Context, id, by int64, now time.Time) (Round, error) {
	sl, err := s.Slot(ctx, id)
	if err != nil {
		return Round{}, err
	}
	if !sl.Ranked() {
		return Round{}, ErrNotRanked
	}
	r, _, err := s.allocate(ctx, id, audit.User(by), now, true)
	if err == nil && len(r.Slots) == 0 {
		return r, ErrAlreadyAllocated
	}
	return r, err
}

func (s *Store) allocate(ctx context.Context, slotID int64, actor audit.Actor, now time.Time, wait bool) (Round, bool, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Round{}, false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	// One round at a time across replicas: the job tries and leaves the
	// work to whoever holds the lock; the endpoint waits for it.
	lock := `SELECT pg_try_advisory_xact_lock($1)`
	if wait {
		lock = `SELECT true FROM (SELECT pg_advisory_xact_lock($1)) l`
	}
	var got bool
	if err := tx.GetContext(ctx, &got, lock, allocationLock); err != nil {
		return Round{}, false, fmt.Errorf("allocation lock: %w", err)
	}
	if !got {
		return Round{}, false, nil
	}
	// The round sorts and aggregates every application of its slots: in
	// memory, not in temporary files (4 MB, the default, spills at about
	// 20,000 applications).
	if _, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
		return Round{}, false, fmt.Errorf("allocation work_mem: %w", err)
	}
	r, err := allocateRound(ctx, tx, s.notes, slotID, actor, now)
	if err != nil || len(r.Slots) == 0 {
		return r, true, err
	}
	if err := tx.Commit(); err != nil {
		return Round{}, false, fmt.Errorf("commit allocation: %w", err)
	}
	return r, true, nil
}

// A round allocates together the slots it starts from (slot id, or every
// ranked slot due at now) and every ranked, unallocated slot that a live
// application of those lists, and so on, so that each application is
// placed once with all its options: the connected slots. Each slot is
// marked allocated (allocated_at = now, its window closed at now if still
// open) by the UPDATE that locks it, so that applications and withdrawals
// (which lock the slots FOR SHARE) wait for the round and then see it
// closed; then the applications are read in bulk, the eligibility rules
// applied again, scheduling.Allocate run, and the results written in one
// statement.
func allocateRound(ctx context.Context, tx *sqlx.Tx, notes *notify.Notes, slotID int64, actor audit.Actor, now time.Time) (Round, error) {
	slots := map[int64]*Slot{}
	var apps []roundApp
	read := map[int64]bool{} // applications read
	next, err := markSlots(ctx, tx, `allocation = 'ranked' AND allocated_at IS NULL AND
		CASE WHEN $2::bigint = 0 THEN booking_closes_at <= $1 ELSE id = $2 END`, now, slotID)
	for err == nil && len(next) > 0 {
		var ids []int64
		for _, sl := range next {
			slots[sl.ID] = &sl
			ids = append(ids, sl.ID)
		}
		var more []roundApp
		if more, err = readApplications(ctx, tx, ids, read); err != nil {
			break
		}
		apps = append(apps, more...)
		// The slots their options list that the round lacks: ranked and not
		// allocated, they join it; the others are closed to these options.
		var missing []int64
		for _, a := range more {
			for _, id := range a.slots {
				if slots[id] == nil && !slices.Contains(missing, id) {
					missing = append(missing, id)
				}
			}
		}
		next = nil
		if len(missing) > 0 {
			next, err = markSlots(ctx, tx, `allocation = 'ranked' AND allocated_at IS NULL AND id = ANY($2)`, now, pq.Array(missing))
		}
	}
	if err != nil || len(slots) == 0 {
		return Round{}, err
	}
	r := Round{Applications: len(apps)}
	for id := range slots {
		r.Slots = append(r.Slots, id)
	}
	slices.Sort(r.Slots)
	r.Seed = r.Slots[0]
	if err := readHistories(ctx, tx, apps); err != nil {
		return Round{}, err
	}

	// Eligibility again (a candidate may have booked the subject elsewhere
	// meanwhile, or their permit run out on the exam day): the options the
	// candidate may still have go to Allocate; with none, not_allocated
	// with the rule's code. In Allocate an application stands under its own
	// id, so that one candidate's subject 2 and subject 3 applications are
	// placed on their own: the RA-TIE draw is the application's.
	today := Day(now)
	byApp := make(map[int64]*roundApp, len(apps))
	in := make([]Application, 0, len(apps))
	var decided []Placement
	for i := range apps {
		a := &apps[i]
		byApp[a.id] = a
		kept, numbers, refused := recheck(a.candidate, a.prefs, slots)
		a.numbers = numbers
		if len(kept) == 0 {
			decided = append(decided, Placement{CandidateID: a.id, Status: StatusNotAllocated, Reason: refused})
			continue
		}
		in = append(in, Application{CandidateID: a.id, PriorityLane: a.candidate.Priority != nil,
			PermitExpiresOn: a.candidate.PermitExpiresOn, SortTime: a.sortTime,
			StepFree: a.candidate.Priority.Has("step_free"), AdaptedVehicle: a.candidate.Priority.Has("adapted_vehicle"),
			Preferences: kept})
	}
	seats := make([]SlotSeats, 0, len(slots))
	for _, sl := range slots {
		seats = append(seats, SlotSeats{SlotID: sl.ID, Left: sl.Free(), ReserveLeft: sl.HeldForLane(now),
			StepFree: sl.VenueStepFree, AdaptedVehicle: sl.AdaptedVehicle})
	}
	placed, err := Allocate(r.Seed, in, seats, today)
	if err != nil {
		return Round{}, fmt.Errorf("allocate slots %v: %w", r.Slots, err)
	}
	// The ineligible rank after every placed application: they were not in
	// the ranking, but every decided application has a rank.
	for _, p := range decided {
		p.Rank = len(placed) + 1
		a := byApp[p.CandidateID]
		p.Basis = BasisSortTime
		if a.candidate.Priority != nil {
			p.Basis = BasisPriorityLane
		}
		placed = append(placed, p)
	}
	w := roundWrite{at: now, actor: actor}
	ns := make([]notify.Note, 0, len(placed))
	for _, p := range placed {
		a := byApp[p.CandidateID]
		pref := 0
		if p.Status == StatusConfirmed {
			// The option placed, as the candidate numbered it.
			pref = a.numbers[p.Preference-1]
			r.Confirmed++
		}
		w.decide(a, p, pref, slots)
		ns = append(ns, decisionNote(a, p, pref, slots))
	}
	if err := w.write(ctx, tx, r); err != nil {
		return Round{}, err
	}
	// Every decision reaches its candidate (issue 14 §4): one note each,
	// in this transaction, in bulk.
	if err := notes.AddMany(ctx, tx, ns); err != nil {
		return Round{}, err
	}
	return r, nil
}

// roundApp is an application as the round reads it.
type roundApp struct {
	id        int64
	candidate Candidate
	sortTime  time.Time
	by        int64
	prefs     [][]int64
	slots     []int64 // every slot of prefs
	numbers   []int   // the preference number of each option given to Allocate
}

// markSlots marks allocated the slots where holds ($1 now, $2 arg),
// returning them, their windows closed.
func markSlots(ctx context.Context, tx *sqlx.Tx, where string, now time.Time, arg any) ([]Slot, error) {
	var out []Slot
	err := tx.SelectContext(ctx, &out, `
		WITH m AS (
			UPDATE slots SET allocated_at = $1,
			       booking_closes_at = least(booking_closes_at, $1), booking_opens_at = least(booking_opens_at, $1)
			WHERE `+where+`
			RETURNING *)
		SELECT `+slotColumns+` FROM m s JOIN venues v ON v.id = s.venue_id`, now, arg)
	if err != nil {
		return nil, fmt.Errorf("mark slots allocated: %w", err)
	}
	return out, nil
}

// readApplications reads the live applications that list any of slots and
// are not in read yet, with their options and candidates, in one statement.
// The options are aggregated from a subquery sorted by preference and half
// (one sort, not one per application as array_agg(… ORDER BY) does), which
// the aggregation keeps.
func readApplications(ctx context.Context, tx *sqlx.Tx, slots []int64, read map[int64]bool) ([]roundApp, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT a.id, a.candidate_id, a.sort_time, a.applied_by, o.slots, o.prefs,
		       lc.code, lc.subject2_wait_days, lc.subject3_wait_days, lc.subject3_wait_days_licensed,
		       c.permit_issued_on, c.permit_expires_on, c.subject1_passed_on, c.holds_car_licence,
		       g.reason, g.needs
		FROM applications a
		JOIN (SELECT o.application_id, array_agg(o.slot_id) AS slots, array_agg(o.preference) AS prefs
		      FROM (SELECT o.application_id, o.slot_id, o.preference FROM application_options o
		            WHERE o.application_id IN (SELECT application_id FROM application_options WHERE slot_id = ANY($1))
		            ORDER BY o.application_id, o.preference, o.half) o
		      GROUP BY o.application_id) o ON o.application_id = a.id
		JOIN candidates c ON c.id = a.candidate_id
		JOIN licence_classes lc ON lc.code = c.licence_class
		LEFT JOIN priority_grants g ON g.candidate_id = c.id AND g.revoked_at IS NULL
		WHERE a.status = 'applied'`, pq.Array(slots))
	if err != nil {
		return nil, fmt.Errorf("read applications: %w", err)
	}
	defer rows.Close()
	var out []roundApp
	for rows.Next() {
		var a roundApp
		var cand int64
		var ids, prefs pq.Int64Array
		var lc LicenceClass
		var reason *string
		var needs pq.StringArray
		var issued, expires time.Time
		var subject1 *time.Time
		var licensed bool
		if err := rows.Scan(&a.id, &cand, &a.sortTime, &a.by, &ids, &prefs,
			&lc.Code, &lc.Subject2WaitDays, &lc.Subject3WaitDays, &lc.Subject3WaitDaysLicensed,
			&issued, &expires, &subject1, &licensed, &reason, &needs); err != nil {
			return nil, fmt.Errorf("read applications: %w", err)
		}
		if read[a.id] {
			continue
		}
		read[a.id] = true
		a.candidate = Candidate{ID: cand, LicenceClass: lc, PermitIssuedOn: issued, PermitExpiresOn: expires,
			Subject1PassedOn: subject1, HoldsCarLicence: licensed}
		if reason != nil {
			a.candidate.Priority = &Grant{Reason: *reason, Needs: []string(needs)}
		}
		a.slots = ids
		for i, id := range ids {
			p := int(prefs[i])
			for len(a.prefs) < p {
				a.prefs = append(a.prefs, nil)
			}
			a.prefs[p-1] = append(a.prefs[p-1], id)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// readHistories reads the bookings (not cancelled) of the candidates of
// apps, in one statement.
func readHistories(ctx context.Context, tx *sqlx.Tx, apps []roundApp) error {
	if len(apps) == 0 {
		return nil
	}
	ids := make([]int64, len(apps))
	for i, a := range apps {
		ids[i] = a.candidate.ID
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT candidate_id, subject, status, exam_day FROM bookings
		WHERE candidate_id IN (SELECT unnest($1::bigint[])) AND status <> 'cancelled'`, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("read histories: %w", err)
	}
	defer rows.Close()
	history := map[int64][]PastBooking{}
	for rows.Next() {
		var id int64
		var b PastBooking
		if err := rows.Scan(&id, &b.Subject, &b.Status, &b.ExamDay); err != nil {
			return fmt.Errorf("read histories: %w", err)
		}
		history[id] = append(history[id], b)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read histories: %w", err)
	}
	for i := range apps {
		apps[i].candidate.History = history[apps[i].candidate.ID]
	}
	return nil
}

// roundWrite is a round's results, as columns for unnest.
type roundWrite struct {
	at    time.Time
	actor audit.Actor
	// bookings: application, candidate, slot, subject, day, lane, booked by
	bApp, bCand, bSlot, bSubject, bBy []int64
	bDay, bLane                       []string
	// applications: id, status, rank, basis, preference, reason
	aID, aRank, aPref        []int64
	aStatus, aBasis, aReason []string
}

func (w *roundWrite) decide(a *roundApp, p Placement, pref int, slots map[int64]*Slot) {
	w.aID = append(w.aID, a.id)
	w.aStatus = append(w.aStatus, p.Status)
	w.aRank = append(w.aRank, int64(p.Rank))
	w.aBasis = append(w.aBasis, p.Basis)
	w.aPref = append(w.aPref, int64(pref))
	w.aReason = append(w.aReason, p.Reason)
	for _, id := range p.Slots {
		sl := slots[id]
		w.bApp = append(w.bApp, a.id)
		w.bCand = append(w.bCand, a.candidate.ID)
		w.bSlot = append(w.bSlot, id)
		w.bSubject = append(w.bSubject, int64(sl.Subject))
		w.bDay = append(w.bDay, sl.Day().Format(time.DateOnly))
		w.bLane = append(w.bLane, a.candidate.Lane())
		w.bBy = append(w.bBy, a.by)
	}
}

// errRoundChanged says that the round's applications changed under it,
// which the slots' locks should make impossible.
var errRoundChanged = errors.New("allocation: the applications changed during the round")

// write writes the round in one statement: the bookings (a combined pair's
// halves pointing at each other), the seats (the slots' CHECK guards
// capacity), the applications' results, and the audit: one entry per
// booking made, one for the round.
func (w *roundWrite) write(ctx context.Context, tx *sqlx.Tx, r Round) error {
	es, err := audit.NewEntries(audit.Entry{Actor: w.actor, Action: "slots.allocated",
		Subject: fmt.Sprintf("slot:%d", r.Seed), After: r})
	if err != nil {
		return err
	}
	roundAudit, auditArgs := es.Insert(16, "true")
	actorID := any(nil)
	if w.actor.Kind != audit.KindSystem {
		actorID = w.actor.ID
	}
	args := append([]any{pq.Array(w.bApp), pq.Array(w.bCand), pq.Array(w.bSlot), pq.Array(w.bSubject),
		pq.Array(w.bDay), pq.Array(w.bLane), pq.Array(w.bBy),
		pq.Array(w.aID), pq.Array(w.aStatus), pq.Array(w.aRank), pq.Array(w.aBasis), pq.Array(w.aPref), pq.Array(w.aReason),
		w.at, w.actor.Kind}, auditArgs...)
	args = append(args, actorID)
	var res struct {
		Booked  int `db:"booked"`
		Decided int `db:"decided"`
	}
	err = tx.GetContext(ctx, &res, writeRoundQuery(roundAudit), args...)
	if err != nil {
		return dbError(err, "write allocation")
	}
	if res.Booked != len(w.bApp) || res.Decided != len(w.aID) {
		return errRoundChanged
	}
	return nil
}

// writeRoundQuery is write's statement, with roundAudit the round's audit INSERT (from $16).
func writeRoundQuery(roundAudit string) string {
	return `
		WITH n AS (
			SELECT nextval('bookings_id_seq') AS id, n.*
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::smallint[], $5::date[], $6::text[], $7::bigint[])
			     AS n (app, candidate_id, slot_id, subject, exam_day, lane, booked_by)),
		paired AS (
			SELECT n.*, CASE WHEN count(*) OVER w = 2 THEN sum(id) OVER w - id END AS pair_id
			FROM n WINDOW w AS (PARTITION BY app)),
		ins AS (
			INSERT INTO bookings (id, candidate_id, slot_id, subject, exam_day, lane, booked_by, pair_id, created_at)
			SELECT id, candidate_id, slot_id, subject, exam_day, lane, booked_by, pair_id, $14 FROM paired
			RETURNING id, candidate_id, slot_id, subject, pair_id),
		seats AS (
			UPDATE slots SET booked = booked + k.n
			FROM (SELECT slot_id, count(*) AS n FROM n GROUP BY slot_id) k
			WHERE slots.id = k.slot_id
			RETURNING slots.id),
		decided AS (
			UPDATE applications a SET status = d.status, rank = d.rank, basis = d.basis,
			       preference = nullif(d.preference, 0), reason = d.reason, decided_at = $14
			FROM unnest($8::bigint[], $9::text[], $10::integer[], $11::text[], $12::smallint[], $13::text[])
			     AS d (id, status, rank, basis, preference, reason)
			WHERE a.id = d.id AND a.status = 'applied'
			RETURNING a.id),
		booking_audit AS (
			INSERT INTO audit_log (actor_kind, actor_id, action, subject, after)
			SELECT $15, $22, 'booking.created', 'booking:' || i.id,
			       jsonb_build_object('id', i.id, 'candidate_id', i.candidate_id, 'slot_id', i.slot_id,
			                          'subject', i.subject, 'pair_id', i.pair_id, 'status', 'confirmed', 'allocated', true)
			FROM ins i),
		round_audit AS (` + roundAudit + `)
		SELECT (SELECT count(*) FROM ins) AS booked, (SELECT count(*) FROM decided) AS decided`
}

// decisionNote tells a's candidate of placement p (pref: the preference
// placed, as they numbered it): allocated, with the day and times of the
// seats, or not, naming the subjects; with the rank and the reason in words.
func decisionNote(a *roundApp, p Placement, pref int, slots map[int64]*Slot) notify.Note {
	zh, en := ReasonWords(p.Reason, pref)
	if p.Status == StatusConfirmed {
		bs := make([]Booking, 0, len(p.Slots))
		for _, id := range p.Slots {
			sl := slots[id]
			bs = append(bs, Booking{Subject: sl.Subject, StartsAt: sl.StartsAt, EndsAt: sl.EndsAt, ExamDay: sl.Day()})
		}
		what, whatEn := bookingsText(bs, nil)
		return notify.Note{CandidateID: a.candidate.ID, Kind: notify.KindApplicationAllocated, Link: "/candidate/bookings",
			ZH: fmt.Sprintf("您的预约申请已分配：%s；排名第%d，%s。", what, p.Rank, zh),
			EN: fmt.Sprintf("Your application was allocated: %s; rank %d, %s.", whatEn, p.Rank, en)}
	}
	var subj, subjEn []string
	if len(a.prefs) > 0 {
		for _, id := range a.prefs[0] {
			if sl := slots[id]; sl != nil {
				subj = append(subj, "科目"+subjectZh(sl.Subject))
				subjEn = append(subjEn, "subject "+subjectEn(sl.Subject))
			}
		}
	}
	return notify.Note{CandidateID: a.candidate.ID, Kind: notify.KindApplicationNotPlaced, Link: "/candidate/bookings",
		ZH: fmt.Sprintf("您的%s预约申请未分配：排名第%d，%s。", strings.Join(subj, "、"), p.Rank, zh),
		EN: fmt.Sprintf("Your application for %s was not allocated: rank %d, %s.", strings.Join(subjEn, " and "), p.Rank, en)}
}
