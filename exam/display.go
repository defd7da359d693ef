package exam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"examd/internal/audit"
	"examd/internal/pg"
	"examd/internal/refusal"
	"examd/internal/secret"
	"examd/scheduling"
)

// A display token opens a venue's hall screen (大厅屏) without a login. The
// token is made here, shown once, and only its SHA-256 is kept, as for the
// devices' keys (CreateDevice).

// MaxDisplayLabel bounds a display's label, as the table does.
const MaxDisplayLabel = 60

// Display is a display token as the admin's list shows it.
type Display struct {
	ID        int64      `db:"id" json:"id"`
	VenueID   int64      `db:"venue_id" json:"venue_id"`
	Venue     string     `db:"venue" json:"-"`
	Label     string     `db:"label" json:"label"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	RevokedAt *time.Time `db:"revoked_at" json:"revoked_at,omitempty"`
}

// ErrNotRevocable refuses to revoke a display token that is unknown or
// revoked already.
var ErrNotRevocable = refusal.New("not_revocable", "没有该大厅屏令牌，或已停用")

// validateDisplay checks a new display's venue and label: an invalid_field refusal.
func validateDisplay(venueID int64, label string) error {
	var bad refusal.List
	if venueID <= 0 {
		bad = append(bad, refusal.Invalid("venue_id", "required"))
	}
	if label == "" || !utf8.ValidString(label) || utf8.RuneCountInString(label) > MaxDisplayLabel ||
		strings.ContainsFunc(label, func(r rune) bool { return r < ' ' }) {
		bad = append(bad, refusal.Invalid("label", fmt.Sprintf("required, at most %d characters of text on one line", MaxDisplayLabel)))
	}
	return bad.Err()
}

// CreateDisplay makes a display token for a venue, recorded in the audit
// log in the same transaction, and returns it with the token, which is never
// stored nor shown again. A venue or label it refuses is an invalid_field refusal.
func (s *Store) CreateDisplay(ctx context.Context, venueID int64, label string, by int64) (Display, string, error) {
	d := Display{VenueID: venueID, Label: label}
	if err := validateDisplay(venueID, label); err != nil {
		return d, "", err
	}
	token, hash := secret.New()
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return d, "", fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	err = tx.GetContext(ctx, &d, `
		INSERT INTO display_tokens (venue_id, label, token_hash, created_by) VALUES ($1, $2, $3, $4)
		RETURNING id, venue_id, label, created_at`, venueID, label, hash, by)
	if r := pg.Refusal(err, constraintErrors); r != nil {
		return d, "", r
	}
	if err != nil {
		return d, "", fmt.Errorf("insert display token: %w", err)
	}
	// The token itself is never recorded: the display's id names it.
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "display.token_issued",
		Subject: fmt.Sprintf("display:%d", d.ID), After: d}); err != nil {
		return d, "", err
	}
	if err := tx.Commit(); err != nil {
		return d, "", fmt.Errorf("commit: %w", err)
	}
	return d, token, nil
}

// RevokeDisplay revokes a display token, recorded in the audit log: its
// screen stops at once. A token unknown or revoked is ErrNotRevocable.
func (s *Store) RevokeDisplay(ctx context.Context, id, by int64, now time.Time) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `
		UPDATE display_tokens SET revoked_at = $2, revoked_by = $3 WHERE id = $1 AND revoked_at IS NULL`, id, now, by)
	if err != nil {
		return fmt.Errorf("revoke display %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotRevocable
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "display.revoked",
		Subject: fmt.Sprintf("display:%d", id), After: map[string]any{"revoked_at": now}}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Displays lists every display token, by venue, the newest first.
func (s *Store) Displays(ctx context.Context) ([]Display, error) {
	ds := []Display{}
	err := s.db.SelectContext(ctx, &ds, `
		SELECT id, venue_id, label, created_at, revoked_at
		FROM display_tokens
		ORDER BY venue_id, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list display tokens: %w", err)
	}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.VenueID
	}
	venues, err := scheduling.VenuesByID(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		ds[i].Venue = venues[ds[i].VenueID].Name
		ds[i].CreatedAt = ds[i].CreatedAt.In(scheduling.Shanghai)
		if r := ds[i].RevokedAt; r != nil {
			revoked := r.In(scheduling.Shanghai)
			ds[i].RevokedAt = &revoked
		}
	}
	return ds, nil
}

// DisplayVenue finds the venue of a live display token: refusal.ErrNotFound for a
// token unknown or revoked.
func (s *Store) DisplayVenue(ctx context.Context, token string) (scheduling.Venue, error) {
	var venueID int64
	err := s.db.GetContext(ctx, &venueID, `
		SELECT venue_id FROM display_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL`, secret.Hash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return scheduling.Venue{}, refusal.ErrNotFound
	}
	if err != nil {
		return scheduling.Venue{}, fmt.Errorf("display token: %w", err)
	}
	venues, err := scheduling.VenuesByID(ctx, s.db, []int64{venueID})
	if err != nil {
		return scheduling.Venue{}, err
	}
	v, ok := venues[venueID]
	if !ok {
		return v, refusal.ErrNotFound
	}
	return v, nil
}
