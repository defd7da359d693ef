package scheduling

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"examd/internal/api"
	"examd/internal/refusal"
)

// MaxIdempotencyKey bounds an Idempotency-Key, in bytes.
const MaxIdempotencyKey = 200

// Validate checks a booking request as both front doors (the API and the
// pages) receive it: one slot, two for the combined exam (BK-COMBINED), or
// three for the all-subjects day (BK-PACKAGE), by distinct positive ids; a candidate; an Idempotency-Key, when given, of at most
// MaxIdempotencyKey printable ASCII characters. A refusal is an invalid_field refusal.
func (r BookRequest) Validate() error {
	if len(r.SlotIDs) < 1 || len(r.SlotIDs) > 3 {
		return invalid("slot_ids", "one slot id, two for the combined exam, or three for the all-subjects day")
	}
	for i, id := range r.SlotIDs {
		if id <= 0 {
			return invalid("slot_ids", "positive slot ids")
		}
		if slices.Contains(r.SlotIDs[:i], id) {
			// One slot twice is no combination of subjects.
			if len(r.SlotIDs) == 3 {
				return ErrPackageInvalid
			}
			return ErrCombinedInvalid
		}
	}
	if r.CandidateID <= 0 {
		return invalid("candidate_id", "required: the candidate to book for")
	}
	if len(r.IdempotencyKey) > MaxIdempotencyKey || !printableASCII(r.IdempotencyKey) {
		return invalid("Idempotency-Key", "at most 200 printable ASCII characters")
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Validate checks a cancellation as both front doors receive it: staff
// cancel at any time, with a reason (BK-CANCEL); a reason is at most 500
// bytes of text. A refusal is an invalid_field refusal.
func (r CancelRequest) Validate() error {
	if r.Owner == 0 && r.Reason == "" {
		return invalid("reason", "staff give a reason to cancel")
	}
	if len(r.Reason) > 500 || !api.Text(r.Reason) {
		return invalid("reason", "at most 500 bytes of text")
	}
	return nil
}

// Booker books for both front doors, the API and the pages: the one place
// where a booking request is validated, run and counted.
type Booker struct {
	Store *Store
	// Outcomes, when set, counts booking requests by result: "confirmed",
	// "replayed", or the refusal's code.
	Outcomes *prometheus.CounterVec
}

// Book validates r (BookRequest.Validate), books it (Store.Book) and counts
// the outcome. A candidate that does not exist is an invalid_field refusal of
// candidate_id.
func (b Booker) Book(ctx context.Context, r BookRequest, now time.Time) (Booked, error) {
	if err := r.Validate(); err != nil {
		return Booked{}, b.Refused(err)
	}
	bk, err := b.Store.Book(ctx, r, now)
	if errors.Is(err, refusal.ErrNotFound) {
		err = invalid("candidate_id", "no such candidate")
	}
	switch {
	case errors.Is(err, ErrRankedSlot):
		// Not a booking: the caller records an application (and counts nothing here).
		return Booked{}, err
	case err != nil:
		return Booked{}, b.Refused(err)
	case bk.Fresh:
		b.count("confirmed")
	default:
		b.count("replayed") // a repeat (a double click): the first one booked
	}
	return bk, nil
}

// Refused counts a booking request that ended with err, and returns err: a
// front door calls it for a request it could not even read (a malformed
// body), so that every request is counted once.
func (b Booker) Refused(err error) error {
	b.count(outcomeOf(err))
	return err
}

func (b Booker) count(result string) {
	if b.Outcomes != nil {
		b.Outcomes.WithLabelValues(result).Inc()
	}
}

// Cancel validates r (CancelRequest.Validate) and cancels the booking
// (Store.Cancel), returning the bookings cancelled.
func (b Booker) Cancel(ctx context.Context, r CancelRequest, now time.Time) ([]Booking, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return b.Store.Cancel(ctx, r, now)
}

// outcomeOf is the result a booking request is counted under: the refusal's
// code, or internal for examd's own failure.
func outcomeOf(err error) string {
	if r, ok := refusal.As(err); ok {
		return r.Code
	}
	return "internal"
}

// Move validates r (MoveRequest.Validate) and moves the booking
// (Store.Move), returning the bookings cancelled and those made.
func (b Booker) Move(ctx context.Context, r MoveRequest, now time.Time) (cancelled, booked []Booking, err error) {
	if err := r.Validate(); err != nil {
		return nil, nil, err
	}
	return b.Store.Move(ctx, r, now)
}
