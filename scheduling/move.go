package scheduling

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"examd/internal/api"
	"examd/internal/pg"
)

// MoveRequest asks staff's move of a booking to other slots: the booking
// is cancelled (BK-CANCEL, with the reason) and the candidate booked into
// SlotIDs, in one transaction.
type MoveRequest struct {
	BookingID int64
	// SlotIDs are the new slots: one for a single booking, a subject 2 and
	// a subject 3 slot of one day for a combined booking, a subject 2, 3 and
	// 4 slot of one day for an all-subjects day (BK-PACKAGE).
	SlotIDs []int64
	By      int64
	Reason  string
}

// Validate checks a move as both front doors receive it: one to three
// positive slot ids, and the reason of the cancellation (CancelRequest.Validate).
func (r MoveRequest) Validate() error {
	if len(r.SlotIDs) < 1 || len(r.SlotIDs) > 3 {
		return invalid("slot_ids", "one slot id, two for a combined booking, three for an all-subjects day")
	}
	for _, id := range r.SlotIDs {
		if id <= 0 {
			return invalid("slot_ids", "positive slot ids")
		}
	}
	if r.Reason == "" {
		return invalid("reason", "staff give a reason to move a booking")
	}
	if len(r.Reason) > 500 || !api.Text(r.Reason) {
		return invalid("reason", "at most 500 bytes of text")
	}
	return nil
}

// Move moves a booking to other slots: in one transaction it cancels the
// booking with its pair (the halves still confirmed) and books the candidate
// into the new slots under the rules of Book, so that either both happen or
// neither does (a full new slot leaves the booking as it was). A combined
// booking moves as a pair: the new slots must hold the same subjects as the
// cancelled halves, else ErrMoveMismatch. It returns the bookings cancelled
// and the bookings made.
func (s *Store) Move(ctx context.Context, r MoveRequest, now time.Time) (cancelled, booked []Booking, err error) {
	for try := 1; ; try++ {
		cancelled, booked, err = s.move(ctx, r, now)
		// Like two combined bookings, a move may deadlock with a booking
		// of the same slots; the loser was rolled back whole.
		if (pg.Retryable(err) || errors.Is(err, errStaleHistory)) && try < 5 {
			continue
		}
		return cancelled, booked, err
	}
}

func (s *Store) move(ctx context.Context, r MoveRequest, now time.Time) ([]Booking, []Booking, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	cancelled, err := s.cancelIn(ctx, tx, CancelRequest{BookingID: r.BookingID, By: r.By, WithPair: true, Reason: r.Reason}, now)
	if err != nil {
		return nil, nil, err
	}
	if len(cancelled) == 0 {
		return nil, nil, ErrNotConfirmed
	}
	w, _, err := prepareBooking(ctx, tx, BookRequest{CandidateID: cancelled[0].CandidateID, SlotIDs: r.SlotIDs, By: r.By}, now)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Equal(subjectsOf(cancelled), subjectsOf(w.bookings)) {
		return nil, nil, ErrMoveMismatch
	}
	if _, err := writeBooking(ctx, tx, w, "", "", now); err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("commit move: %w", err)
	}
	return cancelled, w.bookings, nil
}

// subjectsOf is the sorted subjects of bs.
func subjectsOf(bs []Booking) []int {
	subjects := make([]int, len(bs))
	for i, b := range bs {
		subjects[i] = b.Subject
	}
	slices.Sort(subjects)
	return subjects
}
