package scheduling

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// CreateSlots publishes many slots (a week of them, from Week.Slots) in one
// transaction: all of them, or none. It refuses ErrSlotOverlap when two of
// them overlap, or one overlaps a slot already published (BK-OVERLAP).
//
// The check is made under a lock on each venue's row (FOR NO KEY UPDATE,
// taken in id order), so that two publications for one venue run one after
// the other and neither misses the other's slots. An exclusion constraint
// would say it in the schema, but needs btree_gist and a migration; the
// lock does not conflict with the key-share locks that bookings and the
// one-slot form take through their foreign keys.
func (s *Store) CreateSlots(ctx context.Context, slots []Slot, by int64) ([]Slot, error) {
	for i := range slots {
		for _, o := range slots[:i] {
			if Overlap(slots[i], o) {
				return nil, ErrSlotOverlap
			}
		}
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	venues := make([]int64, 0, 1)
	for _, sl := range slots {
		if !slices.Contains(venues, sl.VenueID) {
			venues = append(venues, sl.VenueID)
		}
	}
	var locked []int64
	if err := tx.SelectContext(ctx, &locked, `
		SELECT id FROM venues WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, pq.Array(venues)); err != nil {
		return nil, fmt.Errorf("lock venues: %w", err)
	}
	if len(locked) != len(venues) {
		return nil, invalid("venue_id", "no such venue")
	}
	clash, err := overlapping(ctx, tx, slots)
	if err != nil {
		return nil, err
	}
	if len(clash) > 0 {
		return nil, fmt.Errorf("slot %d at %s: %w", clash[0].ID, clash[0].StartsAt.In(Shanghai).Format("2006-01-02 15:04"), ErrSlotOverlap)
	}
	out := make([]Slot, len(slots))
	for i, sl := range slots {
		if out[i], err = insertSlot(ctx, tx, sl, by); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit slots: %w", err)
	}
	return out, nil
}

// Overlapping returns the published slots that one of slots would overlap
// (BK-OVERLAP), by start: what a publication's preview marks.
func (s *Store) Overlapping(ctx context.Context, slots []Slot) ([]Slot, error) {
	return overlapping(ctx, s.db, slots)
}

func overlapping(ctx context.Context, q sqlx.QueryerContext, slots []Slot) ([]Slot, error) {
	if len(slots) == 0 {
		return nil, nil
	}
	venues, subjects := make([]int64, len(slots)), make([]int64, len(slots))
	starts, ends := make([]string, len(slots)), make([]string, len(slots))
	for i, sl := range slots {
		venues[i], subjects[i] = sl.VenueID, int64(sl.Subject)
		starts[i], ends[i] = sl.StartsAt.Format(timestamptz), sl.EndsAt.Format(timestamptz)
	}
	var found []Slot
	err := sqlx.SelectContext(ctx, q, &found, `
		SELECT DISTINCT `+slotColumns+`
		FROM slots s JOIN venues v ON v.id = s.venue_id
		JOIN unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::timestamptz[]) AS n(venue_id, subject, starts_at, ends_at)
		  ON s.venue_id = n.venue_id AND s.subject = n.subject
		 AND s.starts_at < n.ends_at AND n.starts_at < s.ends_at
		ORDER BY s.starts_at, s.id`,
		pq.Array(venues), pq.Array(subjects), pq.Array(starts), pq.Array(ends))
	if err != nil {
		return nil, fmt.Errorf("find overlapping slots: %w", err)
	}
	return found, nil
}

// timestamptz is the layout in which instants go to PostgreSQL in an array.
const timestamptz = "2006-01-02 15:04:05.999999Z07:00"
