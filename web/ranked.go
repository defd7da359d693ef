package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
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
	e.GET("/candidate/apply/combined", h.applyCombinedPage, candidate...)
	e.POST("/candidate/apply/combined", h.applyCombinedForm, candidate...)
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
	// Combined: the form applies for the combined exam (BK-COMBINED), each
	// preference a pair of Pairs; PickedPairs are the pairs chosen (their
	// Value, "" for none) and Err the preferences refused, each at its select.
	Combined    bool
	Pairs       []applyPair
	PickedPairs [scheduling.MaxPreferences]string
	Err         formErrors
}

// applyPair is a subject 2 and a subject 3 ranked slot of one day that form
// a combined exam (scheduling.CheckCombined), an option of the combined form.
type applyPair struct {
	S2, S3 applyChoice
}

// Value is the pair as the form sends it: "<subject 2 id>-<subject 3 id>".
func (p applyPair) Value() string { return fmt.Sprintf("%d-%d", p.S2.ID, p.S3.ID) }

// PickedPairAt is the pair chosen for preference n (from 1).
func (v applyView) PickedPairAt(n int) string { return v.PickedPairs[n-1] }

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
	names := venueNames(venues)
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

func (h Handler) applyCombinedPage(c echo.Context) error {
	return h.renderApplyCombined(c, http.StatusOK, [scheduling.MaxPreferences]string{c.QueryParam("pair")}, nil, nil)
}

// renderApplyCombined shows the combined application form: its choices are
// the combined exams of ranked slots that the slot page offers as 申请
// (combinedPairs: one venue, one day, subject 2 over before subject 3
// begins, both windows open), less those the candidate may not take
// (block: scheduling.CheckSubject of either subject on the day).
func (h Handler) renderApplyCombined(c echo.Context, status int, picked [scheduling.MaxPreferences]string, ref *rowRefusal, fes formErrors) error {
	me, err := h.me(c)
	if err != nil {
		return err
	}
	ctx, now := c.Request().Context(), h.Now()
	today := scheduling.Day(now)
	o, err := h.offerSlots(ctx, me.ID, scheduling.SlotFilter{LicenceClass: me.LicenceClass,
		From: today, To: today.AddDate(0, 0, slotDays)}, nil, nil, now)
	if err != nil {
		return err
	}
	// Only ranked rows: the pairs' cap (maxPairs) counts the pairs the form
	// offers, not instant ones.
	ranked := slices.DeleteFunc(slices.Clone(o.Rows), func(r slotRow) bool { return !r.Ranked })
	pairs, _ := combinedPairs(o.Found, ranked)
	v := applyView{Combined: true, PickedPairs: picked, Refusal: ref, Err: fes}
	for _, p := range pairs {
		if p.Blocked() == nil {
			v.Pairs = append(v.Pairs, applyPair{
				S2: applyChoice{ID: p.S2.ID, Subject: 2, StartsAt: p.S2.StartsAt, EndsAt: p.S2.EndsAt, Venue: p.S2.Venue},
				S3: applyChoice{ID: p.S3.ID, Subject: 3, StartsAt: p.S3.StartsAt, EndsAt: p.S3.EndsAt, Venue: p.S3.Venue},
			})
		}
	}
	return h.render(c, status, "candidate_apply", "apply.title", v)
}

// applyCombinedForm records a combined application of the form's pairs, in
// order, through the API's store. Every refused preference is shown at
// once, at its select; then the store judges the rest (the candidate, the
// windows, the subjects) as for the API, its refusal shown above the form.
func (h Handler) applyCombinedForm(c echo.Context) error {
	f, err := postForm(c)
	if err != nil {
		return err
	}
	var picked [scheduling.MaxPreferences]string
	for i := range picked {
		picked[i] = strings.TrimSpace(f.Get(fmt.Sprintf("pref%d", i+1)))
	}
	prefs, bad, err := h.pairPreferences(c.Request().Context(), picked)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		fes := make(formErrors, len(bad))
		for i, r := range bad {
			key := refusalKey(r.Code)
			if r.Code == refusal.InvalidField {
				key = "apply.pair_" + r.Message
			}
			fes[i] = &formError{Field: r.Field, Key: key}
		}
		return h.renderApplyCombined(c, api.Status(bad[0].Code), picked, nil, fes)
	}
	p := auth.Caller(c)
	_, err = h.Scheduling.Apply(c.Request().Context(), scheduling.ApplyRequest{CandidateID: p.UserID, Preferences: prefs, By: p.UserID}, h.Now())
	if ref, ok := rowRefusalOf(err, "apply"); ok {
		ref.Placed = true
		return h.renderApplyCombined(c, ref.Status, picked, ref, nil)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/candidate/bookings?done=applied#applications-h")
}

// The combined form's own refusals of a preference (invalid_field, the
// message naming its catalogue key apply.pair_<message>).
const (
	pairRequired = "required" // no preference chosen at all
	pairUnknown  = "unknown"  // not "<id>-<id>" of two existing slots
	pairRepeated = "repeated" // a slot of an earlier preference again
)

// pairPreferences reads the chosen pairs (picked, "" for none) into the
// application's preferences, subject 2 first, skipping the empty ones. It
// refuses every bad preference at once, each under its field (pref1 …):
// a pair of a slot that takes no applications (ErrNotRanked), two slots
// that are no combined exam (scheduling.CheckCombined), or a slot already
// in an earlier preference accepted. An error is examd's own failure.
func (h Handler) pairPreferences(ctx context.Context, picked [scheduling.MaxPreferences]string) ([][]int64, refusal.List, error) {
	var prefs [][]int64
	var bad refusal.List
	used := map[int64]bool{}
	refuse := func(field string, r *refusal.Error) {
		bad = append(bad, &refusal.Error{Code: r.Code, Message: r.Message, Field: field})
	}
	for i, value := range picked {
		field := fmt.Sprintf("pref%d", i+1)
		if value == "" {
			continue
		}
		var pair [2]scheduling.Slot
		known := true
		first, second, _ := strings.Cut(value, "-")
		for j, v := range []string{first, second} {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				known = false
				break
			}
			pair[j], err = h.Scheduling.Slot(ctx, id)
			if errors.Is(err, refusal.ErrNotFound) {
				known = false
				break
			}
			if err != nil {
				return nil, nil, err
			}
		}
		if !known {
			bad = append(bad, refusal.Invalid(field, pairUnknown))
			continue
		}
		s2, s3, err := scheduling.CheckCombined(pair[0], pair[1])
		switch {
		case !s2.Ranked() || !s3.Ranked():
			refuse(field, scheduling.ErrNotRanked)
		case err != nil:
			refuse(field, scheduling.ErrCombinedInvalid)
		case used[s2.ID] || used[s3.ID]:
			bad = append(bad, refusal.Invalid(field, pairRepeated))
		default:
			prefs = append(prefs, []int64{s2.ID, s3.ID})
			used[s2.ID], used[s3.ID] = true, true
		}
	}
	if len(prefs) == 0 && len(bad) == 0 {
		bad = append(bad, refusal.Invalid("pref1", pairRequired))
	}
	return prefs, bad, nil
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
		names = venueNames(venues)
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
