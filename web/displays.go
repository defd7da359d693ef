package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"examd/internal/api"
	"examd/internal/audit"
	"examd/internal/auth"
	"examd/internal/secret"
	"examd/scheduling"
)

// A display token opens a venue's hall screen (大厅屏) without a login. The
// pages own the table display_tokens, as they own priority_requests: the
// token is made here, shown once, and only its SHA-256 is kept, as for the
// devices' keys (exam.CreateDevice).

// maxDisplayLabel bounds a display's label, as the table does.
const maxDisplayLabel = 60

// display is a display token as the admin's list shows it.
type display struct {
	ID        int64      `db:"id" json:"id"`
	VenueID   int64      `db:"venue_id" json:"venue_id"`
	Venue     string     `db:"venue" json:"-"`
	Label     string     `db:"label" json:"label"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	RevokedAt *time.Time `db:"revoked_at" json:"revoked_at,omitempty"`
}

// errNoVenue refuses a display for a venue that does not exist.
var errNoVenue = errors.New("no such venue")

// errNotRevocable refuses to revoke a token that is unknown or revoked.
var errNotRevocable = errors.New("no such display, or revoked already")

func hashDisplayToken(token string) []byte {
	return secret.Hash(token)
}

// createDisplay makes a display token for a venue, recorded in the audit
// log, and returns it with the token, which is never stored nor shown again.
func createDisplay(ctx context.Context, db *sqlx.DB, venueID int64, label string, by int64) (display, string, error) {
	token, _ := secret.New()
	d := display{VenueID: venueID, Label: label}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return d, "", fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	err = tx.GetContext(ctx, &d, `
		INSERT INTO display_tokens (venue_id, label, token_hash, created_by) VALUES ($1, $2, $3, $4)
		RETURNING id, venue_id, label, created_at`, venueID, label, hashDisplayToken(token), by)
	var e *pq.Error
	if errors.As(err, &e) && e.Constraint == "display_tokens_venue_id_fkey" {
		return d, "", errNoVenue
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

// revokeDisplay revokes a display token: its screen stops at once.
func revokeDisplay(ctx context.Context, db *sqlx.DB, id, by int64, now time.Time) error {
	tx, err := db.BeginTxx(ctx, nil)
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
		return errNotRevocable
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

// displays lists every display token, by venue, the newest first.
func displays(ctx context.Context, db *sqlx.DB) ([]display, error) {
	ds := []display{}
	err := db.SelectContext(ctx, &ds, `
		SELECT d.id, d.venue_id, v.name AS venue, d.label, d.created_at, d.revoked_at
		FROM display_tokens d JOIN venues v ON v.id = d.venue_id
		ORDER BY d.venue_id, d.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list display tokens: %w", err)
	}
	return ds, nil
}

// displayVenue finds the venue of a live display token.
func displayVenue(ctx context.Context, db *sqlx.DB, token string) (scheduling.Venue, error) {
	var v scheduling.Venue
	err := db.GetContext(ctx, &v, `
		SELECT v.id, v.name FROM display_tokens d JOIN venues v ON v.id = d.venue_id
		WHERE d.token_hash = $1 AND d.revoked_at IS NULL`, hashDisplayToken(token))
	if errors.Is(err, sql.ErrNoRows) {
		return v, api.ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("display token: %w", err)
	}
	return v, nil
}

// venueDisplays is a venue's display tokens, for the list.
type venueDisplays struct {
	Venue    string
	Displays []display
}

// displaysView is the data of the admin's display page.
type displaysView struct {
	Venues  []scheduling.Venue
	ByVenue []venueDisplays
	// Created and URL are the display just made and its hall URL, shown
	// this once.
	Created *display
	URL     string
	// Form is what the create form shows; Field and Error name the field
	// the last try failed on, and why.
	Form         displayForm
	Field, Error string
	// Row and RowError are a revocation's refusal, next to its button.
	Row       int64
	RowError  string
	RowPlaced bool // the row is on the page, its message next to it
}

// displayForm is the create form as sent.
type displayForm struct {
	VenueID int64
	Label   string
}

func (h Handler) registerDisplays(e *echo.Echo, m []echo.MiddlewareFunc) {
	e.GET("/admin/displays", h.displaysList, m...)
	e.POST("/admin/displays", h.createDisplay, m...)
	e.POST("/admin/displays/:id/revoke", h.revokeDisplay, m...)
}

func (h Handler) displaysList(c echo.Context) error {
	return h.displaysPage(c, http.StatusOK, displaysView{})
}

// displaysPage lists the display tokens by venue, with the create form.
func (h Handler) displaysPage(c echo.Context, status int, v displaysView) error {
	ctx := c.Request().Context()
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return err
	}
	ds, err := displays(ctx, h.DB)
	if err != nil {
		return err
	}
	v.Venues = venues
	v.ByVenue = []venueDisplays{}
	for _, d := range ds {
		if n := len(v.ByVenue); n == 0 || v.ByVenue[n-1].Displays[0].VenueID != d.VenueID {
			v.ByVenue = append(v.ByVenue, venueDisplays{Venue: d.Venue})
		}
		last := &v.ByVenue[len(v.ByVenue)-1]
		last.Displays = append(last.Displays, d)
		v.RowPlaced = v.RowPlaced || d.ID == v.Row
	}
	return h.render(c, status, "admin_displays", "displays.title", v)
}

// createDisplay makes a display token and answers with its hall URL, shown
// this once: rendered here, never redirected to (a URL with it in the
// history), never cached.
func (h Handler) createDisplay(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return &api.Error{Status: http.StatusBadRequest, Code: "bad_request", Message: "malformed form"}
	}
	f := displayForm{Label: strings.TrimSpace(req.PostForm.Get("label"))}
	f.VenueID, _ = strconv.ParseInt(req.PostForm.Get("venue_id"), 10, 64)
	refuse := func(field, key string) error {
		return h.displaysPage(c, http.StatusUnprocessableEntity, displaysView{Form: f, Field: field, Error: key})
	}
	if f.VenueID <= 0 {
		return refuse("venue_id", "displays.venue_invalid")
	}
	if f.Label == "" || !api.Text(f.Label) || utf8.RuneCountInString(f.Label) > maxDisplayLabel ||
		strings.ContainsFunc(f.Label, func(r rune) bool { return r < ' ' }) {
		return refuse("label", "displays.label_invalid")
	}
	d, token, err := createDisplay(req.Context(), h.DB, f.VenueID, f.Label, auth.Caller(c).UserID)
	if errors.Is(err, errNoVenue) {
		return refuse("venue_id", "displays.venue_invalid")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.displaysPage(c, http.StatusCreated, displaysView{Created: &d, URL: c.Scheme() + "://" + req.Host + "/hall/" + token})
}

// revokeDisplay revokes a display token; its screen stops at once.
func (h Handler) revokeDisplay(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return api.ErrNotFound
	}
	err = revokeDisplay(c.Request().Context(), h.DB, id, auth.Caller(c).UserID, h.Now())
	if errors.Is(err, errNotRevocable) {
		return h.displaysPage(c, http.StatusConflict, displaysView{Row: id, RowError: "displays.not_revocable"})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/displays?done=display_revoked")
}
