package web

import (
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
	"examd/issuance"
	"examd/scheduling"
)

// registerDesk mounts the issuing desk (制证窗口): the day's queue for the
// chain desk (issuers and admins, as the API's queue), its actions for the
// chain act (issuers only: the API lets only them call and step), the live
// feed the queue follows, the receipts for the chain desk, the day's report
// for the chain report, and the month's satisfaction for the chain admin.
func (h Handler) registerDesk(e *echo.Echo, desk, act, report, admin []echo.MiddlewareFunc) {
	e.GET("/desk", h.desk, desk...)
	e.GET("/desk/live", issuance.LiveQueue(h.Hub), desk...) // /api/v1/live/issuance's door, by cookie
	e.POST("/desk/:id/call", h.deskCall, act...)
	e.POST("/desk/:id/step", h.deskStep, act...)
	e.GET("/desk/:id/receipt", h.deskReceipt, desk...)
	e.GET("/desk/report", h.deskReport, report...)
	e.GET("/desk/report.csv", h.deskReportCSV, report...)
	e.GET("/desk/satisfaction", h.satisfaction, admin...)
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
	// Served: the queue shows the candidates already served (issued) too
	// (?served=1); otherwise Hidden counts those it leaves out.
	Served bool
	Hidden int
	// Checklist and Payments are what the steps' forms offer.
	Checklist []issuance.CheckItem
	Payments  []string
	// Refusal is the last action's refusal, shown next to its row's
	// buttons, or above the queue when the row is gone.
	Refusal *rowRefusal
	// Issued is the licence just printed, shown in the result panel.
	Issued *issuedLicence
	// Done is the candidate whose step was just done (?cand=), shown with
	// what was done and a link to their receipt.
	Done *issuance.QueueItem
}

// deskRow is a candidate of the queue as the desk sees them.
type deskRow struct {
	issuance.QueueItem
	Key     string // cand-<id>, the row's element id
	Refusal *rowRefusal
	// Form and Errors are the step's form as sent and its bad fields, every
	// one at once, when the step was refused for them; Missing are the
	// checklist's items not ticked.
	Form    url.Values
	Errors  formErrors
	Missing []issuance.CheckItem
}

// Checked reports whether the step's form as sent ticked item code.
func (r deskRow) Checked(code string) bool { return slices.Contains(r.Form["checklist"], code) }

// Value is the field's value in the step's form as sent.
func (r deskRow) Value(field string) string { return r.Form.Get(field) }

// MissingZh and MissingEn name the items of the checklist not ticked.
func (r deskRow) MissingZh() string {
	return missing(r.Missing, func(m issuance.CheckItem) string { return m.TextZh }, "、")
}

// MissingEn names the items of the checklist not ticked, in English.
func (r deskRow) MissingEn() string {
	return missing(r.Missing, func(m issuance.CheckItem) string { return m.TextEn }, ", ")
}

func missing(items []issuance.CheckItem, text func(issuance.CheckItem) string, sep string) string {
	names := make([]string, len(items))
	for i, m := range items {
		names[i] = text(m)
	}
	return strings.Join(names, sep)
}

// issuedLicence is a licence the desk has just printed.
type issuedLicence struct {
	CandidateID  int64
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
	v, err := h.deskData(c, issued, nil, nil)
	if err != nil {
		return err
	}
	if c.QueryParam("part") == "queue" {
		return h.renderPart(c, "desk", "queue", v)
	}
	return h.render(c, http.StatusOK, "desk", "desk.title", v)
}

// deskData loads today's queue, the licence of candidate issued (0: none)
// when it was printed today, and places ref, or the refused form f, on its
// row. Served candidates (issued) are left out unless ?served=1 asks for
// them, or a refusal concerns them.
func (h Handler) deskData(c echo.Context, issued int64, ref *rowRefusal, f *refusedStep) (deskView, error) {
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
		FeeYuan: h.LicenceFeeYuan, Rows: make([]deskRow, 0, len(items)), Refusal: ref,
		Served: c.QueryParam("served") == "1", Checklist: issuance.AcceptChecklist, Payments: issuance.PaymentMethods,
	}
	done, _ := strconv.ParseInt(c.QueryParam("cand"), 10, 64)
	for _, it := range items {
		if it.CandidateID == done {
			v.Done = &it
		}
		row := deskRow{QueueItem: it, Key: rowKeyOf(it.CandidateID)}
		if f != nil && f.Row == row.Key {
			row.Form, row.Errors, row.Missing = f.Form, f.Errors, f.Missing
		}
		if ref != nil && ref.Row == row.Key {
			ref.Placed = true
			row.Refusal = ref
			// An issued licence refuses every action: say so rather than
			// explain the order of the steps.
			if it.Step == issuance.StateIssued && ref.Code == issuance.ErrInvalidStep.Code {
				ref.Key = "desk.refusal.issued"
			}
		}
		if it.Step != issuance.StateIssued || v.Served || row.Refusal != nil {
			v.Rows = append(v.Rows, row)
		} else {
			v.Hidden++
		}
		if it.CandidateID == issued && it.Step == issuance.StateIssued {
			j, err := h.Issuing.Journey(ctx, issued, now)
			if err != nil {
				return deskView{}, err
			}
			if j.Issuance != nil && j.Issuance.Licence != nil {
				v.Issued = &issuedLicence{CandidateID: it.CandidateID, Ticket: it.Ticket, Name: it.Name, Licence: *j.Issuance.Licence}
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
	v, err := h.deskData(c, 0, ref, nil)
	if err != nil {
		return err
	}
	return h.render(c, ref.Status, "desk", "desk.title", v)
}

// refusedStep is a step's form refused for its fields: each bad field is
// shown next to its control, all at once, the form as it was sent.
type refusedStep struct {
	Row     string
	Form    url.Values
	Errors  formErrors
	Missing []issuance.CheckItem
}

// deskStepRefused re-renders the queue with the step's form of candidate id
// refused for its fields (422), or as deskRefused for any other refusal.
func (h Handler) deskStepRefused(c echo.Context, id int64, in issuance.StepInput, err error) error {
	all := refusal.All(err)
	if len(all) == 0 || all[0].Code != refusal.InvalidField && all[0].Code != issuance.ErrChecklistIncomplete.Code {
		return h.deskRefused(c, id, err)
	}
	form, _ := c.FormParams()
	f := &refusedStep{Row: rowKeyOf(id), Form: form}
	for _, r := range all {
		if r.Code == issuance.ErrChecklistIncomplete.Code {
			f.Missing = in.Missing()
			f.Errors = append(f.Errors, &formError{Field: "checklist", Key: "desk.err_checklist_missing"})
			continue
		}
		f.Errors = append(f.Errors, &formError{Field: r.Field, Key: "desk.err_" + r.Field})
	}
	v, err := h.deskData(c, 0, nil, f)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusUnprocessableEntity, "desk", "desk.title", v)
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
	form, err := c.FormParams()
	if err != nil {
		return h.deskRefused(c, id, errBadStep)
	}
	in := issuance.StepInput{Checklist: form["checklist"],
		PaymentMethod: form.Get("payment_method"), ReceiptNumber: form.Get("receipt_number")}
	res, err := h.Issuing.Step(c.Request().Context(), id, step, in, deskStaff(c), h.Now())
	if err != nil {
		return h.deskStepRefused(c, id, in, err)
	}
	if res.Licence != nil {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/desk?done=desk_print&issued=%d#licence", id))
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/desk?done=desk_%s&cand=%d#done", step, id))
}

// deskStaff is the caller as the desk records them: the same as the API
// (issuance's staff), the desk being the one on the user's account.
func deskStaff(c echo.Context) issuance.Staff {
	p := auth.Caller(c)
	return issuance.Staff{UserID: p.UserID, Desk: p.Desk}
}
