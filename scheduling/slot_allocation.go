package scheduling

import (
	"context"
	"fmt"
	"time"

	"examd/internal/audit"
	"examd/internal/refusal"
)

// ErrSlotInUse refuses to change how a slot gives its seats once a
// candidate holds or waits for one of them: a booking, a live application
// or a waitlist entry, each made under the slot's present rule.
var ErrSlotInUse = refusal.New("slot_in_use", "该场次已有预约、预约申请或候补，不能再更改分配方式")

// SetAllocation switches slot id between instant and ranked allocation
// (RA-*), by user by, as of now, and returns the slot as stored. Asking for
// the allocation the slot has changes nothing. A switch is refused with
// ErrAlreadyAllocated once a ranked slot was allocated, ErrBookingClosed
// once its window has closed (BK-WINDOW), and ErrSlotInUse while it has a
// booking, a live application or a waitlist entry.
//
// The slot's row is locked FOR UPDATE first, which waits for every
// transaction that took a lock on it to make one of those: a booking's
// seat (its UPDATE, and the bookings' foreign key), an application's
// options (FOR SHARE), a waitlist entry (its foreign key, and the join's
// FOR SHARE). The conditional UPDATE after it, a statement of its own, sees
// all they committed; one that comes after the switch waits for it, then
// finds the slot's new allocation and refuses (the booking's seat is taken
// only from an instant slot, an application only to a ranked one).
func (s *Store) SetAllocation(ctx context.Context, id int64, allocation string, by int64, now time.Time) (Slot, error) {
	if err := CheckAllocation(allocation); err != nil {
		return Slot{}, err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Slot{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var sl Slot
	err = tx.GetContext(ctx, &sl, `SELECT `+slotColumns+`
		FROM slots s JOIN venues v ON v.id = s.venue_id WHERE s.id = $1 FOR UPDATE OF s`, id)
	if err != nil {
		return Slot{}, notFound(err, fmt.Sprintf("lock slot %d", id))
	}
	switch {
	case sl.allocation() == allocation:
		return sl, nil
	case sl.AllocatedAt != nil:
		return Slot{}, ErrAlreadyAllocated
	case !now.Before(sl.BookingClosesAt):
		return Slot{}, ErrBookingClosed
	}
	res, err := tx.ExecContext(ctx, `
		UPDATE slots s SET allocation = $2
		WHERE s.id = $1 AND s.allocation <> $2 AND s.allocated_at IS NULL AND s.booking_closes_at > $3
		  AND s.booked = 0
		  AND NOT EXISTS (SELECT FROM bookings b WHERE b.slot_id = s.id AND b.status <> 'cancelled')
		  AND NOT EXISTS (SELECT FROM application_options o JOIN applications a ON a.id = o.application_id
		                  WHERE o.slot_id = s.id AND a.status = 'applied')
		  AND NOT EXISTS (SELECT FROM waitlist w WHERE w.slot_id = s.id AND w.state IN ('waiting', 'offered'))`,
		id, allocation, now)
	if err != nil {
		return Slot{}, fmt.Errorf("set allocation of slot %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Slot{}, fmt.Errorf("set allocation of slot %d: %w", id, err)
	}
	if n != 1 {
		// The lock holds the allocation and the window as read: what
		// stopped the UPDATE is a candidate's booking, application or entry.
		return Slot{}, ErrSlotInUse
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "slot.allocation_changed",
		Subject: fmt.Sprintf("slot:%d", id),
		Before:  map[string]any{"allocation": sl.allocation()}, After: map[string]any{"allocation": allocation}}); err != nil {
		return Slot{}, err
	}
	if err := tx.Commit(); err != nil {
		return Slot{}, fmt.Errorf("commit allocation of slot %d: %w", id, err)
	}
	sl.Allocation = allocation
	return sl, nil
}
