package exam

import (
	"context"
	"fmt"
)

// VenueCars lists the devices in service at a venue, by name: the exam
// cars (and terminals) the examiners' screen shows a tile for.
func (s *Store) VenueCars(ctx context.Context, venueID int64) ([]Device, error) {
	ds := []Device{}
	err := s.db.SelectContext(ctx, &ds, `SELECT `+deviceColumns+`
		FROM devices WHERE venue_id = $1 AND retired_at IS NULL
		ORDER BY name, id`, venueID)
	if err != nil {
		return nil, fmt.Errorf("devices of venue %d: %w", venueID, err)
	}
	return ds, nil
}
