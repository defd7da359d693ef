package scheduling

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/notify"
	"examd/internal/refusal"
)

// seatsFreed is what follows, in the freeing transaction tx, the
// cancellation of the bookings bs: an offer among them ends declined (kept
// past its cancel deadline), and
// each freed seat goes to the waitlist (refill).
func (s *Store) seatsFreed(ctx context.Context, tx *sqlx.Tx, bs []Booking, now time.Time) error {
	return seatsFreed(ctx, tx, bs, now)
}

// SeatFreed is seatsFreed for the other packages (BK-COMBINED-FAIL's
// release, package exam): booking was cancelled in tx, its seat freed.
func SeatFreed(ctx context.Context, tx *sqlx.Tx, booking, slotID int64, now time.Time) error {
	return seatsFreed(ctx, tx, []Booking{{ID: booking, SlotID: slotID}}, now)
}

func seatsFreed(ctx context.Context, tx *sqlx.Tx, bs []Booking, now time.Time) error {
	ids, slotIDs := make([]int64, len(bs)), make([]int64, 0, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
		if !slices.Contains(slotIDs, b.SlotID) {
			slotIDs = append(slotIDs, b.SlotID)
		}
	}
	// An offer past its cancel deadline was kept (OfferState): its booking
	// ending now does not make it declined.
	if _, err := tx.ExecContext(ctx, `
		UPDATE waitlist w SET ended_at = $2,
		       state = CASE WHEN $2 >= `+cancelDeadlineSQL("b.exam_day")+` THEN 'booked' ELSE 'declined' END
		FROM bookings b
		WHERE b.id = w.booking_id AND w.booking_id = ANY($1) AND w.state = 'offered'`, pq.Array(ids), now); err != nil {
		return fmt.Errorf("end offers: %w", err)
	}
	slices.Sort(slotIDs)
	for _, id := range slotIDs {
		if err := refill(ctx, tx, id, now); err != nil {
			return err
		}
	}
	return nil
}

// refill gives slot's free seats, in tx, to its waiting candidates in
// ranked order: each is judged by the booking rules as of now and booked by
// the ordinary booking's statements (prepareBooking, writeBooking); an
// ineligible one is skipped with the refusal's code and the next is tried.
// The caller holds the slot's row (it freed the seat), so nobody books the
// seat between. A slot that no longer takes bookings (BK-WINDOW) keeps its
// waitlist as it is.
func refill(ctx context.Context, tx *sqlx.Tx, slotID int64, now time.Time) error {
	var sl Slot
	err := tx.GetContext(ctx, &sl, `SELECT `+slotColumns+`
		FROM slots s JOIN venues v ON v.id = s.venue_id WHERE s.id = $1`, slotID)
	if err != nil {
		return fmt.Errorf("refill slot %d: %w", slotID, err)
	}
	if !sl.Open(now) || sl.Free() <= 0 {
		return nil
	}
	es, err := waiting(ctx, tx, slotID, now, true)
	if err != nil {
		return err
	}
	for _, e := range es {
		if sl.SeatsLeft(true, now) <= 0 {
			break
		}
		// PL-RESERVE: a seat still held for the lane waits for a lane candidate.
		if sl.SeatsLeft(e.Lane, now) <= 0 {
			continue
		}
		booked, err := offer(ctx, tx, e, sl, now)
		if err != nil {
			return err
		}
		if booked {
			sl.Booked++
		}
	}
	return nil
}

// offer books e's slot for e's candidate, in a savepoint of tx, and tells
// them; an ineligible candidate's entry is skipped with the reason. It
// reports whether the seat was booked.
func offer(ctx context.Context, tx *sqlx.Tx, e WaitlistEntry, sl Slot, now time.Time) (bool, error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT waitlist_offer`); err != nil {
		return false, fmt.Errorf("savepoint: %w", err)
	}
	// The candidate asked for the seat by joining: the booking is theirs.
	r := BookRequest{CandidateID: e.CandidateID, SlotIDs: []int64{sl.ID}, By: e.CandidateID}
	w, _, err := prepareBooking(ctx, tx, r, now)
	if err == nil {
		// The booking's note is the offer, in the booking's statement.
		note := offerNote(e.CandidateID, w.bookings[0], w.slots[0].VenueName)
		w.note = &note
		_, err = writeBooking(ctx, tx, w, "", "", now)
	}
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT waitlist_offer`); rerr != nil {
			return false, fmt.Errorf("rollback to savepoint: %w", rerr)
		}
		rf, refused := refusal.As(err)
		switch {
		case errors.Is(err, errStaleHistory) || errors.Is(err, ErrSlotFull):
			return false, nil // still waiting: the next seat may be theirs
		case !refused:
			return false, err
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE waitlist SET state = 'skipped', skip_reason = $2, ended_at = $3 WHERE id = $1`, e.ID, rf.Code, now)
		if err != nil {
			return false, fmt.Errorf("skip waitlist entry %d: %w", e.ID, err)
		}
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT waitlist_offer`); err != nil {
		return false, fmt.Errorf("release savepoint: %w", err)
	}
	b := w.bookings[0]
	if _, err := tx.ExecContext(ctx, `
		UPDATE waitlist SET state = 'offered', booking_id = $2, ended_at = $3 WHERE id = $1`, e.ID, b.ID, now); err != nil {
		return false, fmt.Errorf("offer waitlist entry %d: %w", e.ID, err)
	}
	return true, nil
}

// offerNote tells candidate that the waitlist booked them b at venue,
// which they may decline.
func offerNote(candidate int64, b Booking, venue string) notify.Note {
	zh, en := bookingsText([]Booking{b}, map[int64]string{b.VenueID: venue})
	return notify.Note{CandidateID: candidate, Kind: notify.KindWaitlistOffer,
		ZH:   "候补成功：已为您预约" + zh + "。如不能参加，请在“我的预约”中放弃，名额将转给下一位候补考生。",
		EN:   "Waitlist: you have a seat: " + en + ". If you cannot come, decline it under My bookings so that the next candidate gets it.",
		Link: "/candidate/bookings"}
}

// ReleaseBatch is how many slots one ReleaseReserves releases at most.
const ReleaseBatch = 100

// ReleaseReserves releases the priority reserve of every slot whose release
// time has come by now and not yet released (PL-RESERVE), offering the
// released seats to the waitlist in the same transaction, so that nobody
// can book them first. One replica at a time runs it (an advisory lock);
// each slot is released exactly once (reserve_released_at). It returns the
// number of slots released.
func (s *Store) ReleaseReserves(ctx context.Context, now time.Time) (int, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var got bool
	if err := tx.GetContext(ctx, &got, `SELECT pg_try_advisory_xact_lock(hashtextextended('examd.reserve_release', 0))`); err != nil {
		return 0, fmt.Errorf("reserve release lock: %w", err)
	}
	if !got {
		return 0, nil // another replica is releasing
	}
	var ids []int64
	err = tx.SelectContext(ctx, &ids, `
		UPDATE slots SET reserve_released_at = $1
		WHERE id IN (SELECT id FROM slots WHERE reserve_released_at IS NULL AND reserve_release_at <= $1
		             ORDER BY reserve_release_at, id LIMIT $2 FOR NO KEY UPDATE)
		RETURNING id`, now, ReleaseBatch)
	if err != nil {
		return 0, fmt.Errorf("release reserves: %w", err)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := refill(ctx, tx, id, now); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit reserve release: %w", err)
	}
	return len(ids), nil
}
