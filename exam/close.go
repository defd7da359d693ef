package exam

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/audit"
	"examd/internal/refusal"
	"examd/scheduling"
)

// Ended is a booking that closing its slot ended.
type Ended struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

// CloseSlot ends the exam day of a slot (BK-NOSHOW, BK-RETAKE): confirmed
// bookings without an attempt become no-shows, those whose failed first
// attempt was not retaken become failed. Each is announced on the feed.
// It returns the ended bookings.
func (s *Store) CloseSlot(ctx context.Context, slotID, venueID int64, now time.Time) ([]Ended, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	slot, err := scheduling.SlotPlaceOf(ctx, tx, slotID)
	if err != nil {
		return nil, err
	}
	if venueID != 0 && slot.VenueID != venueID {
		return nil, refusal.ErrNotFound
	}
	if now.Before(slot.StartsAt) {
		// A slot that has not started has no no-shows yet.
		return nil, ErrSlotNotStarted
	}
	// Lock the bookings first, then look at their attempts in statements of
	// their own: an exam_started that held a booking's lock has committed
	// its attempt by then, and the next statement sees it.
	bs, err := scheduling.LockSlotBookings(ctx, tx, slotID)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	if scheduling.Day(now).After(scheduling.Day(slot.StartsAt)) {
		if err := abandon(ctx, tx, slotID, ids, now); err != nil {
			return nil, err
		}
	}
	last, err := lastAttempts(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	ended := []Ended{}
	for _, b := range bs {
		a, tried := last[b.ID]
		if tried && a.Status == InProgress {
			continue // the exam is under way
		}
		if wait, err := s.awaitsSubject2(ctx, tx, b); err != nil || wait {
			if err != nil {
				return nil, err
			}
			continue
		}
		status := scheduling.StatusNoShow
		if tried {
			status = scheduling.StatusFailed // the retake was declined
		}
		ok, err := scheduling.EndBooking(ctx, tx, b.ID, status)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		ended = append(ended, Ended{ID: b.ID, Status: status})
		feed := bookingEvent(b, status, now)
		feed.Status = status
		if _, err := s.pub.Append(ctx, tx, VenueTopic(b.VenueID), feed); err != nil {
			return nil, err
		}
		if err := s.releasePair(ctx, tx, b, now); err != nil {
			return nil, err
		}
	}
	return ended, tx.Commit()
}

// awaitsSubject2 reports whether the close leaves b as it is: with
// BK-COMBINED-FAIL set to release, the subject 3 half of a combined booking
// waits for its subject 2 half's result, which releases it when it fails
// (a no-show included), whichever slot is closed first.
//
// Likewise the subject 4 booking of an all-subjects day (BK-PACKAGE) waits
// while its subject 2 or 3 is still confirmed: one of them failing
// releases it (releasePackage) rather than leaving it a no-show.
func (s *Store) awaitsSubject2(ctx context.Context, tx *sqlx.Tx, b scheduling.BookingForExam) (bool, error) {
	if b.Subject == 4 {
		return scheduling.PackageRoadTestsPending(ctx, tx, b)
	}
	if !s.ReleasePairOnSubject2Fail || b.Subject != 3 || b.PairID == nil {
		return false, nil
	}
	status, err := scheduling.BookingStatus(ctx, tx, *b.PairID)
	if err != nil {
		return false, err
	}
	return status == scheduling.StatusConfirmed, nil
}

// abandon ends failed the attempts still in progress of the bookings once
// their slot's day has ended: a device that died; the booking can then end.
func abandon(ctx context.Context, tx *sqlx.Tx, slotID int64, bookings []int64, now time.Time) error {
	var abandoned []int64
	if err := tx.SelectContext(ctx, &abandoned, `
		UPDATE attempts SET status = 'failed', finished_at = $2
		WHERE status = 'in_progress' AND booking_id = ANY($1)
		RETURNING id`, pq.Array(bookings), now); err != nil {
		return fmt.Errorf("end abandoned attempts of slot %d: %w", slotID, err)
	}
	for _, id := range abandoned {
		if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.System, Action: "attempt.finished",
			Subject: fmt.Sprintf("attempt:%d", id), Before: map[string]string{"status": InProgress},
			After: map[string]string{"status": Failed, "why": "abandoned: the slot's day ended"}}); err != nil {
			return err
		}
	}
	return nil
}

// lastAttempts returns the latest attempt of each of the bookings that has one.
func lastAttempts(ctx context.Context, tx *sqlx.Tx, bookings []int64) (map[int64]Attempt, error) {
	var as []Attempt
	if err := tx.SelectContext(ctx, &as, `SELECT DISTINCT ON (booking_id) `+attemptColumns+`
		FROM attempts WHERE booking_id = ANY($1) ORDER BY booking_id, attempt_no DESC`, pq.Array(bookings)); err != nil {
		return nil, fmt.Errorf("attempts of the slot's bookings: %w", err)
	}
	last := make(map[int64]Attempt, len(as))
	for _, a := range as {
		last[a.BookingID] = a
	}
	return last, nil
}

// CloseEndedDays closes, as CloseSlot does, every slot of a day that has
// ended and still holds confirmed bookings: BK-NOSHOW applies at the end of
// the slot's day even when nobody closed it. Safe to run on every replica
// at once: each booking ends by a conditional update, once.
func (s *Store) CloseEndedDays(ctx context.Context, now time.Time) (int, error) {
	slots, err := scheduling.UnclosedSlots(ctx, s.db, scheduling.Day(now))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range slots {
		ended, err := s.CloseSlot(ctx, id, 0, now)
		if err != nil {
			return n, err
		}
		n += len(ended)
	}
	return n, nil
}
