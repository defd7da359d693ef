package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"examd/exam"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// The examiner's live screen (考试员监控): one venue, a tile per exam car,
// the roster of who is next and the sign-off of finished attempts. The page
// is rendered with the day's empty tiles and roster; web/static/examiner.js
// replays the venue's feed of today from the seq the page names and then
// follows it live over /examiner/live (venue_id, since), resuming with since after a drop, so
// that every event is shown exactly once.

// registerExaminer mounts the screen for examiners (their own venue) and for
// schedulers and admins (any venue). live is the chain of the websocket
// route: the session without the forms' CSRF cookie.
func (h Handler) registerExaminer(e *echo.Echo, pages, live []echo.MiddlewareFunc) {
	e.GET("/examiner", h.examiner, pages...)
	e.GET("/examiner/roster", h.examinerRoster, pages...)
	e.GET("/examiner/attempts/:id", h.scoreSheet, pages...)
	e.GET("/examiner/attempts/:id/count", h.attemptCount, pages...)
	e.POST("/examiner/attempts/:id/sign", h.signAttempt, pages...)
	// The API's own live door (/api/v1/live), here behind the session
	// cookie; the hub checks the Origin, so that another site's page
	// cannot open it with the cookie.
	e.GET("/examiner/live", exam.LiveVenue(h.Hub), live...)
}

// examinerView is the screen's data.
type examinerView struct {
	Venue scheduling.Venue
	// Venues are the venues a scheduler or admin may switch to; empty for
	// an examiner, who watches their own.
	Venues []scheduling.Venue
	// CanSign: examiners sign attempts at their venue; other staff watch.
	CanSign bool
	Cars    []exam.Device
	// Since is the venue feed's seq before today: the script replays the
	// day's events after it.
	Since  int64
	Roster []rosterSlot
	// NoVenue: the examiner's account names no venue to watch.
	NoVenue bool
	// Now is the server's time: the script measures how long a device has
	// been silent on the server's clock, not the tablet's.
	Now time.Time
}

// rosterSlot is a slot of today that has not ended, with who is booked.
type rosterSlot struct {
	Slot    scheduling.Slot
	Entries []scheduling.RosterEntry
}

// Waiting is the slot's candidates still to be examined, in exam order.
func (r rosterSlot) Waiting() []scheduling.RosterEntry {
	var w []scheduling.RosterEntry
	for _, e := range r.Entries {
		if e.Status == scheduling.StatusConfirmed {
			w = append(w, e)
		}
	}
	return w
}

// screenVenue is the venue the caller watches: an examiner's own, for other
// staff the one named by ?venue (default the first).
func (h Handler) screenVenue(c echo.Context) (scheduling.Venue, []scheduling.Venue, error) {
	venues, err := h.Scheduling.Venues(c.Request().Context())
	if err != nil {
		return scheduling.Venue{}, nil, err
	}
	p := auth.Caller(c)
	want := int64(0)
	if p.Role == auth.RoleExaminer {
		if p.VenueID == nil {
			return scheduling.Venue{}, nil, refusal.ErrForbidden
		}
		want = *p.VenueID
	} else if v := c.QueryParam("venue"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return scheduling.Venue{}, nil, refusal.Invalid("venue", "the id of a venue")
		}
		want = id
	}
	for _, v := range venues {
		if want == 0 || v.ID == want {
			if p.Role == auth.RoleExaminer {
				venues = nil
			}
			return v, venues, nil
		}
	}
	return scheduling.Venue{}, nil, refusal.ErrNotFound
}

// examinerData loads what the screen shows of venue v today.
func (h Handler) examinerData(c echo.Context, v scheduling.Venue, venues []scheduling.Venue) (examinerView, error) {
	ctx := c.Request().Context()
	now := h.Now()
	view := examinerView{Venue: v, Venues: venues, CanSign: auth.Caller(c).Role == auth.RoleExaminer, Now: now}
	var err error
	if view.Since, err = h.Feed.SeqBefore(ctx, exam.VenueTopic(v.ID), scheduling.StartOfDay(scheduling.Day(now))); err != nil {
		return view, err
	}
	devices, err := h.Exams.Devices(ctx, v.ID)
	if err != nil {
		return view, err
	}
	for _, d := range devices {
		if d.RetiredAt == nil {
			view.Cars = append(view.Cars, d.Device)
		}
	}
	view.Roster, err = h.roster(c, v.ID, now)
	return view, err
}

// roster lists today's slots at the venue that have not ended, each with its
// candidates in exam order (the priority lane first).
func (h Handler) roster(c echo.Context, venueID int64, now time.Time) ([]rosterSlot, error) {
	ctx := c.Request().Context()
	day := scheduling.Day(now)
	slots, _, err := h.Scheduling.FindSlots(ctx, scheduling.SlotFilter{VenueID: venueID, From: day, To: day})
	if err != nil {
		return nil, err
	}
	var out []rosterSlot
	for _, s := range slots {
		if !s.EndsAt.After(now) {
			continue
		}
		entries, err := h.Scheduling.Roster(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, rosterSlot{Slot: s, Entries: entries})
	}
	return out, nil
}

func (h Handler) examiner(c echo.Context) error {
	if p := auth.Caller(c); p.Role == auth.RoleExaminer && p.VenueID == nil {
		return h.render(c, http.StatusOK, "examiner", "examiner.title", examinerView{NoVenue: true})
	}
	v, venues, err := h.screenVenue(c)
	if err != nil {
		return err
	}
	view, err := h.examinerData(c, v, venues)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "examiner", "examiner.title", view)
}

// examinerRoster is the roster section alone: the script refreshes it when
// an exam starts or ends.
func (h Handler) examinerRoster(c echo.Context) error {
	v, _, err := h.screenVenue(c)
	if err != nil {
		return err
	}
	r, err := h.roster(c, v.ID, h.Now())
	if err != nil {
		return err
	}
	return h.renderPart(c, "examiner", "roster", examinerView{Venue: v, Roster: r})
}

// attemptCount is the booking count of an attempt's booking (n of 5,
// BK-CAP), as its score sheet shows it (exam.Store.Sheet): the screen's
// script asks for it once per attempt it shows on a tile (ED-SCREEN). Cap
// is 0 for a subject without a cap.
func (h Handler) attemptCount(c echo.Context) error {
	id, err := attemptID(c)
	if err != nil {
		return err
	}
	v, err := h.sheetFor(c, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"count": v.Sheet.BookingCount, "cap": v.Sheet.BookingCap})
}

// screenTexts are the catalogue keys the screen's script shows, handed to
// it in the page (the texts live in the catalogues, not in the script).
func screenTexts() []string {
	keys := []string{"subject.2", "subject.3", "subject.4"}
	for _, k := range []string{
		"idle", "attempt", "item", "no_item", "pass_mark", "deductions", "no_deductions",
		"points", "instruction", "passed", "failed", "in_progress", "retake_open", "lane",
		"sign", "signed_examiner", "signed_candidate", "announce_result",
		"conn.connecting", "conn.open", "conn.closed",
		"booking_count", "booking_no", "seen", "silent",
	} {
		keys = append(keys, "examiner.js."+k)
	}
	for _, item := range slices.Concat(exam.Items(2, "C1"), exam.Items(3, "")) {
		keys = append(keys, "item."+item)
	}
	return keys
}

// Texts are the catalogue keys of the script's texts.
func (examinerView) Texts() []string { return screenTexts() }
