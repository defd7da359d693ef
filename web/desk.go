package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/issuance"
	"examd/scheduling"
)

// registerDesk mounts the issuing desk (制证窗口): the day's queue for the
// chain desk (issuers and admins, as the API's queue), its actions for the
// chain act (issuers only: the API lets only them call and step), the live
// feed the queue follows, and the day's report for the chain report.
func (h Handler) registerDesk(e *echo.Echo, desk, act, report []echo.MiddlewareFunc) {
	e.GET("/desk", h.desk, desk...)
	e.GET("/desk/live", issuance.LiveQueue(h.Hub), desk...) // /api/v1/live/issuance's door, by cookie
	e.POST("/desk/:id/call", h.deskCall, act...)
	e.POST("/desk/:id/step", h.deskStep, act...)
	e.GET("/desk/report", h.deskReport, report...)
}

// deskView is the data of the desk page.
type deskView struct {
	Day string
	// Desk is where the caller works, from their account (users.desk), as
	// the API records it with every call and step; "" when none is set.
	Desk string
	// CanAct reports whether the caller may call and step (issuers); an
	// admin watches the queue.
	CanAct  bool
	FeeYuan int
	Rows    []deskRow
	// Refusal is the last action's refusal, shown next to its row's
	// buttons, or above the queue when the row is gone.
	Refusal *rowRefusal
	// Issued is the licence just printed, shown in the result panel.
	Issued *issuedLicence
}

// deskRow is a candidate of the queue as the desk sees them.
type deskRow struct {
	issuance.QueueItem
	Key     string // cand-<id>, the row's element id
	Refusal *rowRefusal
}

// issuedLicence is a licence the desk has just printed.
type issuedLicence struct {
	Ticket, Name string
	issuance.Licence
}

// Called reports whether the ticket has been called to a desk.
func (r deskRow) Called() bool { return r.CalledDesk != nil && *r.CalledDesk != "" }

// Next is the step the desk takes the candidate through next (IS-STEPS),
// "" once the licence is issued.
func (r deskRow) Next() string {
	switch r.Step {
	case issuance.StateReady:
		return issuance.StepAccept
	case issuance.StateAccepted:
		return issuance.StepReviewFee
	case issuance.StateReviewed:
		return issuance.StepPrint
	}
	return ""
}

// StepKey is the catalogue key of the row's state.
func (r deskRow) StepKey() string {
	if r.Step == issuance.StateReady && r.Called() {
		return "desk.state_called"
	}
	return "desk." + r.Step
}

// desk shows today's queue; with ?part=queue only the queue's section,
// which the page's script fetches when the live feed announces a change.
func (h Handler) desk(c echo.Context) error {
	var issued int64
	if n, err := strconv.ParseInt(c.QueryParam("issued"), 10, 64); err == nil && n > 0 {
		issued = n
	}
	v, err := h.deskData(c, issued, nil)
	if err != nil {
		return err
	}
	if c.QueryParam("part") == "queue" {
		return h.renderPart(c, "desk", "queue", v)
	}
	return h.render(c, http.StatusOK, "desk", "desk.title", v)
}

// deskData loads today's queue, the licence of candidate issued (0: none)
// when it was printed today, and places ref on its row.
func (h Handler) deskData(c echo.Context, issued int64, ref *rowRefusal) (deskView, error) {
	ctx := c.Request().Context()
	now := h.Now()
	day := scheduling.Day(now)
	p := auth.Caller(c)
	items, err := h.Issuing.Queue(ctx, day, now)
	if err != nil {
		return deskView{}, err
	}
	v := deskView{
		Day: day.Format(time.DateOnly), Desk: p.Desk, CanAct: p.Role == auth.RoleIssuer,
		FeeYuan: h.LicenceFeeYuan, Rows: make([]deskRow, len(items)), Refusal: ref,
	}
	for i, it := range items {
		v.Rows[i] = deskRow{QueueItem: it, Key: rowKeyOf(it.CandidateID)}
		if ref != nil && ref.Row == v.Rows[i].Key {
			ref.Placed = true
			v.Rows[i].Refusal = ref
			// An issued licence refuses every action: say so rather than
			// explain the order of the steps.
			if it.Step == issuance.StateIssued && ref.Code == issuance.ErrInvalidStep.Code {
				ref.Key = "desk.refusal.issued"
			}
		}
		if it.CandidateID == issued && it.Step == issuance.StateIssued {
			j, err := h.Issuing.Journey(ctx, issued, now)
			if err != nil {
				return deskView{}, err
			}
			if j.Issuance != nil && j.Issuance.Licence != nil {
				v.Issued = &issuedLicence{Ticket: it.Ticket, Name: it.Name, Licence: *j.Issuance.Licence}
			}
		}
	}
	return v, nil
}

func rowKeyOf(candidateID int64) string { return "cand-" + strconv.FormatInt(candidateID, 10) }

// deskRefused re-renders the queue with the refusal err next to the row of
// candidate id, with the refusal's status (409, or 422 for a bad form); it
// returns err itself when err is no refusal.
func (h Handler) deskRefused(c echo.Context, id int64, err error) error {
	ref, ok := rowRefusalOf(err, rowKeyOf(id))
	if !ok {
		return err
	}
	v, err := h.deskData(c, 0, ref)
	if err != nil {
		return err
	}
	return h.render(c, ref.Status, "desk", "desk.title", v)
}

// errBadStep is a step form naming no step of the desk: a stale or
// tampered form.
var errBadStep = refusal.Invalid("step", "one of accept, review_fee, print")

// deskCall calls the candidate's ticket to the caller's desk (叫号).
func (h Handler) deskCall(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	if _, err := h.Issuing.Call(c.Request().Context(), id, deskStaff(c), h.Now()); err != nil {
		return h.deskRefused(c, id, err)
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/desk?done=desk_called#%s", rowKeyOf(id)))
}

// deskStep takes the candidate through the step the form names; after
// printing the page shows the licence.
func (h Handler) deskStep(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	step := c.FormValue("step")
	if !issuance.IsStep(step) {
		return h.deskRefused(c, id, errBadStep)
	}
	res, err := h.Issuing.Step(c.Request().Context(), id, step, "", deskStaff(c), h.Now())
	if err != nil {
		return h.deskRefused(c, id, err)
	}
	if res.Licence != nil {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/desk?done=desk_print&issued=%d#licence", id))
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/desk?done=desk_%s#%s", step, rowKeyOf(id)))
}

// deskStaff is the caller as the desk records them: the same as the API
// (issuance's staff), the desk being the one on the user's account.
func deskStaff(c echo.Context) issuance.Staff {
	p := auth.Caller(c)
	return issuance.Staff{UserID: p.UserID, Desk: p.Desk}
}
