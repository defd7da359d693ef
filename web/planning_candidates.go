package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
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

// candidatesView is the data of the candidates page: the search, the
// pending priority-lane requests and the form to register a candidate.
type candidatesView struct {
	Query string
	// List is the page of candidates that match the search (all of them
	// without one).
	List     scheduling.CandidatePage
	Requests []scheduling.LaneRequest
	Classes  []scheduling.LicenceClassName
	Form     url.Values
	Err      formErrors
	// Refusal is a decision on a request that was refused (decided meanwhile).
	Refusal *rowRefusal
}

// PageURL is the address of the page by pages from this one, with the search.
func (v candidatesView) PageURL(by int) string {
	q := url.Values{"page": {strconv.Itoa(v.List.Page + by)}}
	if v.Query != "" {
		q.Set("q", v.Query)
	}
	return "/admin/candidates?" + q.Encode() + "#list-h"
}

// RefusalFor is the refusal to show next to the row key, if any.
func (v candidatesView) RefusalFor(key string) *rowRefusal {
	if v.Refusal != nil && v.Refusal.Row == key {
		return v.Refusal
	}
	return nil
}

// planCandidates lists the candidates, CandidatesPerPage to a page (?page=),
// those whose ID number, name or phone holds ?q= when given. A full ID
// number or a candidate number of one candidate opens their page.
func (h Handler) planCandidates(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	ctx := c.Request().Context()
	var p scheduling.CandidateProfile
	var err error = refusal.ErrNotFound
	if id, perr := strconv.ParseInt(q, 10, 64); perr == nil && len(q) < 11 {
		p, err = h.Scheduling.Candidate(ctx, id)
	} else if len(q) == 18 {
		p, err = h.Scheduling.CandidateByIDNumber(ctx, q)
	}
	switch {
	case err == nil:
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/candidates/%d", p.ID))
	case !errors.Is(err, refusal.ErrNotFound):
		return err
	case len(q) > 40:
		return h.candidatesPage(c, http.StatusNotFound, q, url.Values{}, formErrors{invalidField("q")}, nil)
	}
	return h.candidatesPage(c, http.StatusOK, q, url.Values{}, nil, nil)
}

func (h Handler) candidatesPage(c echo.Context, status int, q string, form url.Values, ferr formErrors, ref *rowRefusal) error {
	ctx := c.Request().Context()
	reqs, err := h.Scheduling.PendingLaneRequests(ctx, 0)
	if err != nil {
		return err
	}
	classes, err := h.Scheduling.LicenceClasses(ctx)
	if err != nil {
		return err
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	list := scheduling.CandidatePage{Candidates: []scheduling.CandidateRow{}, Page: 1, Pages: 1}
	if !ferr.Is("q") {
		if list, err = h.Scheduling.SearchCandidates(ctx, q, page); err != nil {
			return err
		}
	}
	if q != "" && list.Total == 0 && ferr == nil && status == http.StatusOK {
		status, ferr = http.StatusNotFound, formErrors{invalidField("q")}
	}
	if ref != nil {
		ref.Placed = false // a decided request has left the list
		for _, r := range reqs {
			ref.Placed = ref.Placed || ref.Row == fmt.Sprintf("request-%d", r.ID)
		}
	}
	return h.render(c, status, "admin_candidates", "plan.candidates.title", candidatesView{
		Query: q, List: list, Requests: reqs, Classes: classes, Form: form, Err: ferr, Refusal: ref,
	})
}

// newCandidateOf reads the registration form into what POST /candidates
// takes, with the fields it could not read (a malformed date).
func newCandidateOf(f url.Values) (scheduling.NewCandidate, refusal.List) {
	n := scheduling.NewCandidate{
		IDNumber: f.Get("id_number"), Name: f.Get("name"), Phone: strings.TrimSpace(f.Get("phone")),
		LicenceClass: f.Get("licence_class"), HoldsCarLicence: f.Get("holds_car_licence") == "1",
		Password: f.Get("password"),
	}
	var bad refusal.List
	date := func(field string) *time.Time {
		v := f.Get(field)
		if v == "" && field == "subject1_passed_on" {
			return nil // optional
		}
		t, err := scheduling.ParseDate(v)
		if err != nil {
			bad = append(bad, refusal.Invalid(field, "a date YYYY-MM-DD"))
			return nil
		}
		return &t
	}
	if t := date("permit_issued_on"); t != nil {
		n.PermitIssuedOn = *t
	}
	if t := date("permit_expires_on"); t != nil {
		n.PermitExpiresOn = *t
	}
	n.Subject1PassedOn = date("subject1_passed_on")
	return n, bad
}

// planCreateCandidate registers a candidate and their account, as POST
// /candidates does: the domain's validation, the account store's hash.
func (h Handler) planCreateCandidate(c echo.Context) error {
	f, err := postForm(c)
	if err != nil {
		return err
	}
	refuse := func(err error) error {
		fe, ok := formErrorOf(err)
		if !ok {
			return err
		}
		f.Del("password") // never sent back
		return h.candidatesPage(c, http.StatusUnprocessableEntity, "", f, fe, nil)
	}
	n, unread := newCandidateOf(f)
	if err := alongside(unread, n.Validate(scheduling.Day(h.Now()))); err != nil {
		return refuse(err)
	}
	hash, err := h.Accounts.Hash(c.Request().Context(), n.Password)
	if err != nil {
		return err
	}
	id, err := h.Scheduling.CreateCandidate(c.Request().Context(), n, hash, auth.Caller(c).UserID)
	if err != nil {
		return refuse(err)
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/candidates/%d?done=candidate_created", id))
}

// candidateBooking is one of a candidate's bookings on their staff page.
type candidateBooking struct {
	scheduling.Booking
	Venue string
}

// candidateView is the data of a candidate's staff page.
type candidateView struct {
	Profile  scheduling.CandidateProfile
	Bookings []candidateBooking
	// Request is the candidate's pending lane request, if any.
	Request *scheduling.LaneRequest
	Reasons []string
	Needs   []string
	// Grant is the grant form as sent, when it was refused.
	Grant *scheduling.NewGrant
	// PackageReasons are BK-PACKAGE's reasons; Package the package form as
	// sent, when it was refused (its fields' errors are package_reason and
	// package_note in Err).
	PackageReasons []string
	Package        *scheduling.NewPackageGrant
	Err            formErrors
	Refusal        *rowRefusal
	// Slots are the slots the book and move forms offer; Key the booking
	// form's Idempotency-Key.
	Slots []counterSlot
	Key   string
	// Packages are the all-subjects days the counter offers a candidate
	// holding the package (BK-PACKAGE), More whether there were more;
	// Booked the three bookings of the one just booked.
	Packages []packageRow
	More     bool
	Booked   []candidateBooking
}

// Checked reports whether the grant form ticks need: as sent, else as the
// pending request asks.
func (v candidateView) Checked(need string) bool {
	switch {
	case v.Grant != nil:
		return slices.Contains(v.Grant.Needs, need)
	case v.Request != nil:
		return slices.Contains(v.Request.Needs, need)
	}
	return false
}

// Chosen reports whether the grant form selects reason.
func (v candidateView) Chosen(reason string) bool {
	switch {
	case v.Grant != nil:
		return v.Grant.Reason == reason
	case v.Request != nil:
		return v.Request.Reason == reason
	}
	return false
}

// RefusalFor is the refusal to show next to the row key, if any.
func (v candidateView) RefusalFor(key string) *rowRefusal {
	if v.Refusal != nil && v.Refusal.Row == key {
		return v.Refusal
	}
	return nil
}

func (h Handler) planCandidate(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	return h.candidatePage(c, http.StatusOK, id, nil, nil, nil)
}

// candidatePage shows a candidate as GET /candidates/:id shows them to
// planners, with their bookings, their lane and the lane's forms.
func (h Handler) candidatePage(c echo.Context, status int, id int64, g *scheduling.NewGrant, ferr formErrors, ref *rowRefusal) error {
	return h.candidatePageWith(c, status, id, g, nil, ferr, ref)
}

// candidatePageWith is candidatePage with the package form as sent (pk),
// when it was refused.
func (h Handler) candidatePageWith(c echo.Context, status int, id int64, g *scheduling.NewGrant, pk *scheduling.NewPackageGrant, ferr formErrors, ref *rowRefusal) error {
	ctx := c.Request().Context()
	p, err := h.Scheduling.Candidate(ctx, id)
	if errors.Is(err, refusal.ErrNotFound) {
		return refusal.ErrNotFound
	}
	if err != nil {
		return err
	}
	bs, err := h.Scheduling.Bookings(ctx, id)
	if err != nil {
		return err
	}
	// The slots the counter's forms offer, judged for the candidate as
	// their own page judges them (the package's days).
	now := h.Now()
	today := scheduling.Day(now)
	o, err := h.offerSlots(ctx, id, scheduling.SlotFilter{LicenceClass: p.LicenceClass, From: today, To: today.AddDate(0, 0, slotDays)}, bs, nil, now)
	if err != nil {
		return err
	}
	names := venueNames(o.Venues)
	v := candidateView{Profile: p, Bookings: make([]candidateBooking, len(bs)), Reasons: scheduling.PriorityReasons,
		Needs: scheduling.PriorityNeeds, Grant: g, Err: ferr, Refusal: ref,
		PackageReasons: scheduling.PackageReasons, Package: pk}
	for i, b := range bs {
		v.Bookings[i] = candidateBooking{Booking: b, Venue: names[b.VenueID]}
	}
	reqs, err := h.Scheduling.PendingLaneRequests(ctx, id)
	if err != nil {
		return err
	}
	if len(reqs) > 0 {
		v.Request = &reqs[0]
	}
	v.Slots = counterSlotsOf(o.Found, names)
	v.Key = newIdempotencyKey()
	if p.Package != nil {
		// BK-PACKAGE at the counter: the all-subjects days that fit.
		var more bool
		v.Packages, more = packageRows(o.Found, o.Rows, o.Rules, now)
		v.More = o.Truncated || more
	}
	v.Booked = bookedOf(c.QueryParam("booked"), v.Bookings)
	if ref != nil {
		ref.Placed = v.Request != nil && ref.Row == fmt.Sprintf("request-%d", v.Request.ID) || ref.Row == "book" ||
			slices.ContainsFunc(bs, func(b scheduling.Booking) bool { return ref.Row == fmt.Sprintf("booking-%d", b.ID) }) ||
			slices.ContainsFunc(v.Packages, func(r packageRow) bool { return r.Key == ref.Row })
	}
	return h.render(c, status, "admin_candidate", "plan.candidate.title", v)
}

// planGrant puts the candidate on the priority lane (PL-GRANT), as POST
// /candidates/:id/priority does.
func (h Handler) planGrant(c echo.Context) error {
	id, f, err := pathForm(c)
	if err != nil {
		return err
	}
	g := scheduling.NewGrant{Reason: f.Get("reason"), Needs: f["needs"], Note: strings.TrimSpace(f.Get("note"))}
	sent := g
	if err := g.Validate(); err != nil {
		fe, ok := formErrorOf(err)
		if !ok {
			return err
		}
		return h.candidatePage(c, http.StatusUnprocessableEntity, id, &sent, fe, nil)
	}
	_, err = h.Scheduling.GrantPriority(c.Request().Context(), id, g, auth.Caller(c).UserID)
	if errors.Is(err, refusal.ErrNotFound) {
		return refusal.ErrNotFound
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/candidates/%d?done=lane_granted", id))
}

// planRevoke ends the candidate's grant.
func (h Handler) planRevoke(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	err = h.Scheduling.RevokePriority(c.Request().Context(), id, auth.Caller(c).UserID)
	if errors.Is(err, refusal.ErrNotFound) {
		return refusal.ErrNotFound
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/candidates/%d?done=lane_revoked", id))
}

// planGrantRequest grants a pending lane request with its reason and needs.
func (h Handler) planGrantRequest(c echo.Context) error {
	return h.decideRequest(c, "request_granted", func(id, by int64) (int64, error) {
		cid, _, err := h.Scheduling.GrantLaneRequest(c.Request().Context(), id, by)
		return cid, err
	})
}

// planDeclineRequest declines a pending lane request.
func (h Handler) planDeclineRequest(c echo.Context) error {
	return h.decideRequest(c, "request_declined", func(id, by int64) (int64, error) {
		return h.Scheduling.DeclineLaneRequest(c.Request().Context(), id, by, c.Request().PostFormValue("decline_reason"))
	})
}

// decideRequest runs a decision on the request of the path and returns to
// the page that asked: the candidate's (back=<candidate id>) or the list.
// A request decided meanwhile shows its refusal there.
func (h Handler) decideRequest(c echo.Context, done string, decide func(id, by int64) (int64, error)) error {
	id, f, err := pathForm(c)
	if err != nil {
		return err
	}
	back, _ := strconv.ParseInt(f.Get("back"), 10, 64)
	cid, err := decide(id, auth.Caller(c).UserID)
	switch {
	case errors.Is(err, refusal.ErrNotFound):
		return refusal.ErrNotFound
	case errors.Is(err, scheduling.ErrRequestDecided):
		ref, _ := rowRefusalOf(err, fmt.Sprintf("request-%d", id))
		if back > 0 {
			return h.candidatePage(c, http.StatusConflict, back, nil, nil, ref)
		}
		return h.candidatesPage(c, http.StatusConflict, "", url.Values{}, nil, ref)
	case err != nil:
		return err
	}
	if back > 0 {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/candidates/%d?done=%s", cid, done))
	}
	return c.Redirect(http.StatusSeeOther, "/admin/candidates?done="+done)
}
