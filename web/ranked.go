package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/scheduling"
)

// The pages of ranked slots (RA-*): the candidate applies with up to three
// preferences and follows the application; the scheduler sees the ranked
// list and allocates. Both call the store the API calls.

// registerRanked mounts the ranked slots' pages: candidate for the
// candidate's, planners for the scheduler's.
func (h Handler) registerRanked(e *echo.Echo, candidate, planners []echo.MiddlewareFunc) {
	e.GET("/candidate/apply", h.applyPage, candidate...)
	e.POST("/candidate/apply", h.applyForm, candidate...)
	e.POST("/candidate/applications/:id/withdraw", h.withdrawForm, candidate...)
	e.GET("/admin/slots/:id/applications", h.rankedPage, planners...)
	e.POST("/admin/slots/:id/allocate", h.allocateForm, planners...)
}

// applyView is the data of the application page.
type applyView struct {
	// Subject is the subject applied for; Choices the ranked slots of it
	// still taking applications, each an option of the three selects.
	Subject int
	Choices []applyChoice
	// Picked are the slot ids chosen for preferences 1 to 3 (0: none).
	Picked  [scheduling.MaxPreferences]int64
	Refusal *rowRefusal
}

type applyChoice struct {
	ID               int64
	Subject          int
	StartsAt, EndsAt time.Time
	Venue            string
}

// Prefs are 1, 2 and 3, for the template's selects.
func (v applyView) Prefs() []int { return []int{1, 2, 3} }

// PickedAt is the slot chosen for preference n (from 1).
func (v applyView) PickedAt(n int) int64 { return v.Picked[n-1] }

func (h Handler) applyPage(c echo.Context) error {
	id, _ := strconv.ParseInt(c.QueryParam("slot"), 10, 64)
	return h.renderApply(c, http.StatusOK, id, [scheduling.MaxPreferences]int64{id}, nil)
}

// renderApply shows the application form for the subject of slot first.
func (h Handler) renderApply(c echo.Context, status int, first int64, picked [scheduling.MaxPreferences]int64, ref *rowRefusal) error {
	me, err := h.me(c)
	if err != nil {
		return err
	}
	ctx, now := c.Request().Context(), h.Now()
	s, err := h.Scheduling.Slot(ctx, first)
	if err != nil || !s.Ranked() {
		return c.Redirect(http.StatusSeeOther, "/candidate/slots")
	}
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, v := range venues {
		names[v.ID] = v.Name
	}
	today := scheduling.Day(now)
	found, _, err := h.Scheduling.FindSlots(ctx, scheduling.SlotFilter{Subject: s.Subject, LicenceClass: me.LicenceClass,
		From: today, To: today.AddDate(0, 0, slotDays)})
	if err != nil {
		return err
	}
	v := applyView{Subject: s.Subject, Picked: picked, Refusal: ref}
	for _, f := range found {
		if f.Ranked() && f.Open(now) {
			v.Choices = append(v.Choices, applyChoice{ID: f.ID, StartsAt: f.StartsAt, EndsAt: f.EndsAt, Venue: names[f.VenueID]})
		}
	}
	return h.render(c, status, "candidate_apply", "apply.title", v)
}

// applyForm records the application of the form's preferences, in order,
// through the API's store (the same rules and refusals).
func (h Handler) applyForm(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return api.ErrBadRequest
	}
	var picked [scheduling.MaxPreferences]int64
	var prefs [][]int64
	for i := range picked {
		n, err := strconv.ParseInt(req.PostFormValue(fmt.Sprintf("pref%d", i+1)), 10, 64)
		if err != nil || n <= 0 {
			continue
		}
		picked[i] = n
		prefs = append(prefs, []int64{n})
	}
	p := auth.Caller(c)
	_, err := h.Scheduling.Apply(req.Context(), scheduling.ApplyRequest{CandidateID: p.UserID, Preferences: prefs, By: p.UserID}, h.Now())
	if ref, ok := rowRefusalOf(err, "apply"); ok {
		ref.Placed = true
		return h.renderApply(c, ref.Status, picked[0], picked, ref)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/candidate/bookings?done=applied#applications-h")
}

// withdrawForm withdraws one of the candidate's applications, once the
// confirmation box is ticked.
func (h Handler) withdrawForm(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	row := "application-" + strconv.FormatInt(id, 10)
	if c.Request().PostFormValue("confirm") != "yes" {
		return h.bookingsPage(c, http.StatusUnprocessableEntity, &rowRefusal{Row: row, Code: "confirm", Key: "apply.confirm_needed", Status: http.StatusUnprocessableEntity})
	}
	p := auth.Caller(c)
	_, err = h.Scheduling.Withdraw(c.Request().Context(), id, p.UserID, p.UserID, h.Now())
	if ref, ok := rowRefusalOf(err, row); ok {
		return h.bookingsPage(c, ref.Status, ref)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/candidate/bookings?done=withdrawn#applications-h")
}

// applicationRow is one of the candidate's applications as their bookings page shows it.
type applicationRow struct {
	scheduling.ApplicationView
	Key string
	// Options are the preferences, best first, each its slots (one, or
	// a combined pair) with their days, times and venues.
	Options [][]applyChoice
	// Withdrawable: the window is still open.
	Withdrawable bool
}

// RankN is the application's rank, 0 before allocation.
func (r applicationRow) RankN() int {
	if r.Rank == nil {
		return 0
	}
	return *r.Rank
}

// applications lists the candidate's applications for the bookings page.
func (h Handler) applications(c echo.Context, candidateID int64, now time.Time) ([]applicationRow, error) {
	ctx := c.Request().Context()
	apps, err := h.Scheduling.Applications(ctx, candidateID)
	if err != nil {
		return nil, err
	}
	rows := []applicationRow{}
	names := map[int64]string{}
	if len(apps) > 0 {
		venues, err := h.Scheduling.Venues(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range venues {
			names[v.ID] = v.Name
		}
	}
	for _, a := range apps {
		if a.Status == scheduling.StatusWithdrawn {
			continue
		}
		r := applicationRow{ApplicationView: a, Key: "application-" + strconv.FormatInt(a.ID, 10),
			Withdrawable: a.Status == scheduling.StatusApplied && now.Before(a.ClosesAt)}
		for _, opt := range a.Preferences {
			var slots []applyChoice
			for _, id := range opt {
				s, err := h.Scheduling.Slot(ctx, id)
				if err != nil {
					return nil, err
				}
				slots = append(slots, applyChoice{ID: s.ID, Subject: s.Subject, StartsAt: s.StartsAt, EndsAt: s.EndsAt, Venue: names[s.VenueID]})
			}
			r.Options = append(r.Options, slots)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// rankedView is the data of a slot's ranked list.
type rankedView struct {
	Slot    scheduling.Slot
	Entries []scheduling.RankedEntry
	Refusal *rowRefusal
}

func (h Handler) rankedPage(c echo.Context) error {
	return h.renderRanked(c, http.StatusOK, nil)
}

func (h Handler) renderRanked(c echo.Context, status int, ref *rowRefusal) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	s, err := h.Scheduling.Slot(ctx, id)
	if err != nil {
		return err
	}
	es, err := h.Scheduling.RankedList(ctx, id)
	if err != nil {
		return err
	}
	return h.render(c, status, "admin_ranked", "ranked.title", rankedView{Slot: s, Entries: es, Refusal: ref})
}

// allocateForm allocates the slot now, as POST /slots/{id}/allocate.
func (h Handler) allocateForm(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	_, err = h.Scheduling.AllocateSlot(c.Request().Context(), id, auth.Caller(c).UserID, h.Now())
	if ref, ok := rowRefusalOf(err, "allocate"); ok {
		ref.Placed = true
		return h.renderRanked(c, ref.Status, ref)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/slots/%d/applications?done=allocated", id))
}
