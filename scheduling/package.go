package scheduling

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/notify"
	"examd/internal/refusal"
)

// PackageReasons are the reasons staff grant the all-subjects day for
// (BK-PACKAGE, 套餐定制).
var PackageReasons = []string{"permit_expiring", "military_service", "school_term", "other"}

// packageReasonNames name PackageReasons in the candidate's notes, Chinese
// then English.
var packageReasonNames = map[string][2]string{
	"permit_expiring":  {"学习驾驶证明即将到期", "learning permit about to expire"},
	"military_service": {"入伍", "military service"},
	"school_term":      {"返校在即", "school term"},
	"other":            {"其他", "other"},
}

// packageNote tells the candidate that the package was granted (g) or
// revoked (g nil).
func packageNote(candidateID int64, g *PackageGrant) notify.Note {
	n := notify.Note{CandidateID: candidateID, Kind: notify.KindPackageDecided, Link: "/candidate/slots?subject=234"}
	if g == nil {
		n.ZH = "您的全科考试套餐已取消，已预约的场次不受影响。"
		n.EN = "Your all-subjects day package was revoked; the bookings you made stay as they are."
		n.Link = "/candidate/bookings"
		return n
	}
	name := packageReasonNames[g.Reason]
	n.ZH = fmt.Sprintf("考场已为您办理全科考试套餐（%s），可一次预约同一天的科目二、科目三和科目四。", name[0])
	n.EN = fmt.Sprintf("The exam hall granted you the all-subjects day package (%s): you may book subject 2, subject 3 and subject 4 of one day in one step.", name[1])
	return n
}

// PackageGrant is a candidate's grant of the all-subjects day (BK-PACKAGE):
// who granted it, when and why, and, once revoked, by whom and when.
type PackageGrant struct {
	ID        int64      `db:"id" json:"id"`
	Reason    string     `db:"reason" json:"reason"`
	Note      string     `db:"note" json:"note"`
	GrantedBy int64      `db:"granted_by" json:"granted_by"`
	GrantedAt time.Time  `db:"granted_at" json:"granted_at"`
	RevokedBy *int64     `db:"revoked_by" json:"revoked_by,omitempty"`
	RevokedAt *time.Time `db:"revoked_at" json:"revoked_at,omitempty"`
}

func (g PackageGrant) inShanghai() PackageGrant {
	g.GrantedAt = g.GrantedAt.In(Shanghai)
	if g.RevokedAt != nil {
		t := g.RevokedAt.In(Shanghai)
		g.RevokedAt = &t
	}
	return g
}

// NewPackageGrant is a package grant to record.
type NewPackageGrant struct {
	Reason string
	Note   string
}

// Validate checks the reason against PackageReasons and the note, which
// 'other' requires; it reports every bad field at once.
func (g *NewPackageGrant) Validate() error {
	g.Note = strings.TrimSpace(g.Note)
	var bad refusal.List
	if !slices.Contains(PackageReasons, g.Reason) {
		bad = append(bad, refusal.Invalid("reason", "one of "+strings.Join(PackageReasons, ", ")))
	}
	switch {
	case utf8.RuneCountInString(g.Note) > 500 || !utf8.ValidString(g.Note) || strings.ContainsRune(g.Note, 0):
		bad = append(bad, refusal.Invalid("note", "at most 500 characters of text"))
	case g.Reason == "other" && g.Note == "":
		bad = append(bad, refusal.Invalid("note", "required when the reason is other"))
	}
	return bad.Err()
}

const packageColumns = `id, reason, note, granted_by, granted_at, revoked_by, revoked_at`

// ActivePackage returns the candidate's package grant in force, nil without one.
func (s *Store) ActivePackage(ctx context.Context, candidateID int64) (*PackageGrant, error) {
	return activePackage(ctx, s.db, candidateID)
}

func activePackage(ctx context.Context, q sqlx.QueryerContext, candidateID int64) (*PackageGrant, error) {
	var g PackageGrant
	err := sqlx.GetContext(ctx, q, &g, `SELECT `+packageColumns+`
		FROM package_grants WHERE candidate_id = $1 AND revoked_at IS NULL`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get package of %d: %w", candidateID, err)
	}
	g = g.inShanghai()
	return &g, nil
}

// PackageGrants lists a candidate's package grants, the latest first,
// revoked ones included.
func (s *Store) PackageGrants(ctx context.Context, candidateID int64) ([]PackageGrant, error) {
	gs := []PackageGrant{}
	if err := s.db.SelectContext(ctx, &gs, `SELECT `+packageColumns+`
		FROM package_grants WHERE candidate_id = $1 ORDER BY granted_at DESC, id DESC`, candidateID); err != nil {
		return nil, fmt.Errorf("list packages of %d: %w", candidateID, err)
	}
	for i := range gs {
		gs[i] = gs[i].inShanghai()
	}
	return gs, nil
}

// GrantPackage grants a candidate the all-subjects day (BK-PACKAGE),
// replacing a grant in force, and records who granted it and why.
func (s *Store) GrantPackage(ctx context.Context, candidateID int64, g NewPackageGrant, by int64) (*PackageGrant, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	// The candidate's row is locked, as a booking locks it: two grants at
	// once leave one in force, and a booking sees the grant before or after.
	if err := lockCandidate(ctx, tx, candidateID); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE package_grants SET revoked_at = now(), revoked_by = $2
		WHERE candidate_id = $1 AND revoked_at IS NULL`, candidateID, by); err != nil {
		return nil, fmt.Errorf("replace package: %w", err)
	}
	var grant PackageGrant
	if err := tx.GetContext(ctx, &grant, `
		INSERT INTO package_grants (candidate_id, reason, note, granted_by)
		VALUES ($1, $2, $3, $4)
		RETURNING `+packageColumns, candidateID, g.Reason, g.Note, by); err != nil {
		return nil, dbError(err, "insert package")
	}
	grant = grant.inShanghai()
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "package.granted",
		Subject: fmt.Sprintf("candidate:%d", candidateID), After: grant}); err != nil {
		return nil, err
	}
	if err := s.notes.Add(ctx, tx, packageNote(candidateID, &grant)); err != nil {
		return nil, err
	}
	return &grant, tx.Commit()
}

// RevokePackage ends a candidate's package grant in force, if any. Bookings
// already made with it stay as they are.
func (s *Store) RevokePackage(ctx context.Context, candidateID int64, by int64) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := lockCandidate(ctx, tx, candidateID); err != nil {
		return err
	}
	var revoked []PackageGrant
	if err := tx.SelectContext(ctx, &revoked, `
		UPDATE package_grants SET revoked_at = now(), revoked_by = $2
		WHERE candidate_id = $1 AND revoked_at IS NULL
		RETURNING `+packageColumns, candidateID, by); err != nil {
		return fmt.Errorf("revoke package of %d: %w", candidateID, err)
	}
	for _, g := range revoked {
		if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "package.revoked",
			Subject: fmt.Sprintf("candidate:%d", candidateID), Before: g.inShanghai()}); err != nil {
			return err
		}
	}
	if len(revoked) > 0 {
		if err := s.notes.Add(ctx, tx, packageNote(candidateID, nil)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// lockCandidate locks the candidate's row for the transaction; an unknown
// candidate is not found.
func lockCandidate(ctx context.Context, tx *sqlx.Tx, candidateID int64) error {
	var id int64
	err := tx.GetContext(ctx, &id, `SELECT id FROM candidates WHERE id = $1 FOR UPDATE`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return refusal.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("lock candidate %d: %w", candidateID, err)
	}
	return nil
}
