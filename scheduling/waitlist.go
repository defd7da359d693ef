package scheduling

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/pg"
	"examd/internal/refusal"
)

// Waitlist entry states (RA-WAIT).
const (
	WaitWaiting  = "waiting"
	WaitOffered  = "offered"
	WaitBooked   = "booked"
	WaitDeclined = "declined"
	WaitLeft     = "left"
	WaitSkipped  = "skipped"
)

// WaitlistEntry is one candidate's place in a full slot's waitlist.
type WaitlistEntry struct {
	ID          int64     `db:"id" json:"id"`
	CandidateID int64     `db:"candidate_id" json:"candidate_id"`
	SlotID      int64     `db:"slot_id" json:"slot_id"`
	JoinedAt    time.Time `db:"joined_at" json:"joined_at"`
	State       string    `db:"state" json:"state"`
	// SkipReason is the refusal's code that passed a skipped entry over.
	SkipReason *string `db:"skip_reason" json:"skip_reason,omitempty"`
	// BookingID is the seat booked by an offer.
	BookingID *int64 `db:"booking_id" json:"booking_id,omitempty"`
	// Place is a waiting entry's place in the queue as ranked now (from 1),
	// 0 for the others.
	Place int `db:"-" json:"place,omitempty"`
	// The slot, for the candidate's list.
	Subject  int       `db:"subject" json:"subject"`
	StartsAt time.Time `db:"starts_at" json:"starts_at"`
	VenueID  int64     `db:"venue_id" json:"venue_id"`
	// Name and IDNumber are the candidate's, masked, for the scheduler's list.
	Name     string `db:"name" json:"name,omitempty"`
	IDNumber string `db:"id_number" json:"id_number,omitempty"`
	// lane and permit are the ranking's keys (RA-PRIORITY), as of now.
	Lane   bool      `db:"lane" json:"-"`
	Permit time.Time `db:"permit_expires_on" json:"-"`
}

// waitlistColumns select a WaitlistEntry from w (waitlist), s (slots) and c
// (candidates); lane is the grant in force now.
const waitlistColumns = `w.id, w.candidate_id, w.slot_id, w.joined_at, w.state, w.skip_reason, w.booking_id,
	s.subject, s.starts_at, s.venue_id, c.name, c.id_number, c.permit_expires_on,
	EXISTS (SELECT 1 FROM priority_grants g WHERE g.candidate_id = w.candidate_id AND g.revoked_at IS NULL) AS lane`

// rankWaiting orders the waiting entries es of one slot by the RA ranking
// (RA-PRIORITY, RA-SORT by the time they joined, RA-TIE seeded by the slot)
// as of now, and numbers their places.
func rankWaiting(slotID int64, es []WaitlistEntry, now time.Time) []WaitlistEntry {
	apps := make([]Application, len(es))
	byCandidate := make(map[int64]WaitlistEntry, len(es))
	for i, e := range es {
		apps[i] = Application{CandidateID: e.CandidateID, PriorityLane: e.Lane, PermitExpiresOn: e.Permit,
			SortTime: e.JoinedAt, Preferences: [][]int64{{slotID}}}
		byCandidate[e.CandidateID] = e
	}
	out := make([]WaitlistEntry, 0, len(es))
	for i, r := range rank(slotID, apps, Day(now)) {
		e := byCandidate[r.app.CandidateID]
		e.Place = i + 1
		out = append(out, e)
	}
	return out
}

// waiting reads the waiting entries of slot, ranked as of now; lock locks
// them for the transaction (a refill).
func waiting(ctx context.Context, q sqlx.QueryerContext, slotID int64, now time.Time, lock bool) ([]WaitlistEntry, error) {
	query := `SELECT ` + waitlistColumns + `
		FROM waitlist w JOIN slots s ON s.id = w.slot_id JOIN candidates c ON c.id = w.candidate_id
		WHERE w.slot_id = $1 AND w.state = 'waiting'`
	if lock {
		query += ` FOR UPDATE OF w`
	}
	var es []WaitlistEntry
	if err := sqlx.SelectContext(ctx, q, &es, query, slotID); err != nil {
		return nil, fmt.Errorf("waitlist of slot %d: %w", slotID, err)
	}
	return rankWaiting(slotID, es, now), nil
}

// JoinWaitlist puts candidate on the waitlist of a full instant slot, by
// user by. The candidate must be eligible now by the booking rules
// (CheckBooking), as if they booked; a slot with a seat open to them
// refuses with ErrSlotNotFull, a second live entry with ErrWaitlistJoined.
func (s *Store) JoinWaitlist(ctx context.Context, candidateID, slotID, by int64, now time.Time) (WaitlistEntry, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return WaitlistEntry{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var sl Slot
	err = tx.GetContext(ctx, &sl, `SELECT `+slotColumns+`
		FROM slots s JOIN venues v ON v.id = s.venue_id WHERE s.id = $1`, slotID)
	if err != nil {
		return WaitlistEntry{}, notFound(err, "get slot")
	}
	c, err := LoadCandidate(ctx, tx, candidateID)
	if errors.Is(err, refusal.ErrNotFound) {
		return WaitlistEntry{}, invalid("candidate_id", "no such candidate")
	}
	if err != nil {
		return WaitlistEntry{}, err
	}
	// A ranked slot's seats go by the ranking of its applications (RA-*):
	// it has no waitlist.
	if sl.Ranked() {
		return WaitlistEntry{}, ErrRankedSlot
	}
	// The same rules as a booking (BK-*, PL-ACCESS), BK-ONE included: a
	// candidate holding a booking of the subject does not wait for another.
	if err := CheckBooking(c, sl, now); err != nil {
		return WaitlistEntry{}, err
	}
	if sl.SeatsLeft(c.Priority != nil, now) > 0 {
		return WaitlistEntry{}, ErrSlotNotFull
	}
	// The slot is share-locked and must still be instant: a scheduler's
	// switch to ranked (SetAllocation) is waited for, and then refused here,
	// or waits for this entry and then refuses itself.
	var id int64
	err = tx.GetContext(ctx, &id, `
		WITH sl AS (SELECT id FROM slots WHERE id = $2 AND allocation = 'instant' FOR SHARE)
		INSERT INTO waitlist (candidate_id, slot_id, joined_at) SELECT $1, sl.id, $3 FROM sl RETURNING id`,
		candidateID, slotID, now)
	if errors.Is(err, sql.ErrNoRows) {
		return WaitlistEntry{}, ErrRankedSlot
	}
	if err != nil {
		return WaitlistEntry{}, dbError(err, "join waitlist")
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "waitlist.joined",
		Subject: fmt.Sprintf("slot:%d", slotID), After: map[string]any{"candidate_id": candidateID}}); err != nil {
		return WaitlistEntry{}, err
	}
	if err := tx.Commit(); err != nil {
		return WaitlistEntry{}, fmt.Errorf("commit join: %w", err)
	}
	return s.waitlistEntry(ctx, id, now)
}

// LeaveWaitlist takes candidate off slot's waitlist, by user by. Without a
// waiting entry it is not found.
func (s *Store) LeaveWaitlist(ctx context.Context, candidateID, slotID, by int64, now time.Time) (WaitlistEntry, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return WaitlistEntry{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.GetContext(ctx, &id, `
		UPDATE waitlist SET state = 'left', ended_at = $3
		WHERE candidate_id = $1 AND slot_id = $2 AND state = 'waiting'
		RETURNING id`, candidateID, slotID, now)
	if err != nil {
		return WaitlistEntry{}, notFound(err, "leave waitlist")
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "waitlist.left",
		Subject: fmt.Sprintf("slot:%d", slotID), After: map[string]any{"candidate_id": candidateID}}); err != nil {
		return WaitlistEntry{}, err
	}
	if err := tx.Commit(); err != nil {
		return WaitlistEntry{}, fmt.Errorf("commit leave: %w", err)
	}
	return s.waitlistEntry(ctx, id, now)
}

// waitlistEntry reads one entry, with its place when waiting.
func (s *Store) waitlistEntry(ctx context.Context, id int64, now time.Time) (WaitlistEntry, error) {
	var e WaitlistEntry
	err := s.db.GetContext(ctx, &e, `SELECT `+waitlistColumns+`
		FROM waitlist w JOIN slots s ON s.id = w.slot_id JOIN candidates c ON c.id = w.candidate_id
		WHERE w.id = $1`, id)
	if err != nil {
		return e, notFound(err, "get waitlist entry")
	}
	es, err := s.placed(ctx, []WaitlistEntry{e}, now)
	if err != nil {
		return e, err
	}
	return es[0], nil
}

// placed numbers the places of the waiting entries among es and puts their
// times in Asia/Shanghai; the name and ID number are masked.
func (s *Store) placed(ctx context.Context, es []WaitlistEntry, now time.Time) ([]WaitlistEntry, error) {
	ranks := map[int64]map[int64]int{} // slot → candidate → place
	for i := range es {
		e := &es[i]
		e.JoinedAt, e.StartsAt = e.JoinedAt.In(Shanghai), e.StartsAt.In(Shanghai)
		e.Name, e.IDNumber = MaskName(e.Name), MaskIDNumber(e.IDNumber)
		e.State = OfferState(e.State, Day(e.StartsAt), now) // RA-WAIT: kept at the deadline
		if e.State != WaitWaiting {
			continue
		}
		if ranks[e.SlotID] == nil {
			ws, err := waiting(ctx, s.db, e.SlotID, now, false)
			if err != nil {
				return nil, err
			}
			ranks[e.SlotID] = map[int64]int{}
			for _, w := range ws {
				ranks[e.SlotID][w.CandidateID] = w.Place
			}
		}
		e.Place = ranks[e.SlotID][e.CandidateID]
	}
	return es, nil
}

// MyWaitlist lists a candidate's waitlist entries, the live ones first,
// then the newest; a waiting entry has its place as ranked now.
func (s *Store) MyWaitlist(ctx context.Context, candidateID int64, now time.Time) ([]WaitlistEntry, error) {
	es := []WaitlistEntry{}
	err := s.db.SelectContext(ctx, &es, `SELECT `+waitlistColumns+`
		FROM waitlist w JOIN slots s ON s.id = w.slot_id JOIN candidates c ON c.id = w.candidate_id
		WHERE w.candidate_id = $1
		ORDER BY w.state IN ('waiting', 'offered') DESC, w.id DESC`, candidateID)
	if err != nil {
		return nil, fmt.Errorf("waitlist of candidate %d: %w", candidateID, err)
	}
	return s.placed(ctx, es, now)
}

// SlotWaitlist lists a slot's waitlist for the scheduler: the waiting in
// their ranked order, then the others, newest first; names and ID numbers
// masked.
func (s *Store) SlotWaitlist(ctx context.Context, slotID int64, now time.Time) ([]WaitlistEntry, error) {
	if _, err := s.Slot(ctx, slotID); err != nil {
		return nil, err
	}
	es := []WaitlistEntry{}
	err := s.db.SelectContext(ctx, &es, `SELECT `+waitlistColumns+`
		FROM waitlist w JOIN slots s ON s.id = w.slot_id JOIN candidates c ON c.id = w.candidate_id
		WHERE w.slot_id = $1 ORDER BY w.id DESC`, slotID)
	if err != nil {
		return nil, fmt.Errorf("waitlist of slot %d: %w", slotID, err)
	}
	if es, err = s.placed(ctx, es, now); err != nil {
		return nil, err
	}
	slices.SortStableFunc(es, func(a, b WaitlistEntry) int {
		switch {
		case a.Place > 0 && b.Place > 0:
			return a.Place - b.Place
		case a.Place > 0:
			return -1
		case b.Place > 0:
			return 1
		}
		return 0
	})
	return es, nil
}

// Decline gives back a seat the waitlist booked for candidate (an offer):
// the booking is cancelled as the candidate's own cancellation (BK-CANCEL;
// it does not count against BK-CAP), and the seat passes on to the next on
// the waitlist in the same transaction. A booking that is not an offer
// open to the candidate refuses with ErrNotAnOffer, a kept one (Keep, or
// its cancel deadline passed) with ErrOfferKept.
func (s *Store) Decline(ctx context.Context, bookingID, candidateID int64, now time.Time) ([]Booking, error) {
	for try := 1; ; try++ {
		bs, err := s.decline(ctx, bookingID, candidateID, now)
		if pg.Retryable(err) && try < 5 {
			continue
		}
		return bs, err
	}
}

func (s *Store) decline(ctx context.Context, bookingID, candidateID int64, now time.Time) ([]Booking, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	// The entry is locked: a keep at the same time waits, then finds it
	// declined (and a decline behind a keep finds it kept).
	if _, err := offerOf(ctx, tx, bookingID, candidateID, now); err != nil {
		return nil, err
	}
	// cancelIn ends the offer as declined (seatsFreed) and passes the seat on.
	bs, err := s.cancelIn(ctx, tx, CancelRequest{BookingID: bookingID, Owner: candidateID, By: candidateID,
		Reason: DeclineReason}, now)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit decline: %w", err)
	}
	return bs, nil
}

// DeclineReason is the cancellation reason of a declined offer.
const DeclineReason = "候补名额放弃"
