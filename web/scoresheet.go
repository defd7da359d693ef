package web

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"examd/exam"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// The score sheet on the examiner's tablet (ED-SIGN): everything the
// attempt's sheet holds (exam.Store.Sheet, the API's GET /attempts/{id}),
// then the two signatures, each asked for and then named: the examiner's
// after a confirmation step, the candidate's drawn on a canvas
// (web/static/signature.js) once they have read the result.

// sheetView is the score-sheet page's data.
type sheetView struct {
	Sheet exam.ScoreSheet
	// Name is the candidate's name, masked for the examiner (sheetFor).
	Name string
	// CanSign: the venue's examiner signs; other staff read.
	CanSign bool
	// Confirm asks the examiner to confirm their signature (?step=examiner).
	Confirm bool
	// Signed is the signer whose signature was just recorded (?signed=).
	Signed string
	// Refusal is a refused signature, shown at its signer's panel (Row).
	Refusal *rowRefusal
	// Staff names the staff users who signed, by id: the printed sheet
	// carries the examiner's name.
	Staff map[int64]string
	// PrintedAt is when the page was made, printed on the paper.
	PrintedAt time.Time
}

// Finished reports whether the attempt has ended: only then is it signed.
func (v sheetView) Finished() bool { return v.Sheet.Status != exam.InProgress }

// Current are the signatures of the result that stands: the latest
// correction's, else the sheet's own (ED-SIGN).
func (v sheetView) Current() []exam.Signature {
	if n := len(v.Sheet.Corrections); n > 0 {
		return v.Sheet.Corrections[n-1].Signatures
	}
	return v.Sheet.Signatures
}

// SignedBy is the current result's signature by signer, or nil.
func (v sheetView) SignedBy(signer string) *exam.Signature {
	for _, s := range v.Current() {
		if s.Signer == signer {
			return &s
		}
	}
	return nil
}

// Cap is the booking count's cap ("/5"), empty for a subject without one.
func (v sheetView) Cap() string {
	if v.Sheet.BookingCap == 0 {
		return ""
	}
	return fmt.Sprintf("/%d", v.Sheet.BookingCap)
}

// ItemKey is the catalogue key of the exam item a deduction was made in,
// empty when it names none.
func (sheetView) ItemKey(r exam.Recorded) string {
	if r.Item == nil {
		return ""
	}
	return "item." + *r.Item
}

// signatureRow is a signature as the sheet lists it.
type signatureRow struct {
	exam.Signature
	Image template.URL
	// Name is the examiner's username; empty for the candidate (the sheet
	// names them once, at its head).
	Name string
}

// Rows are signatures with their drawings ready for an <img>.
func (v sheetView) Rows(ss []exam.Signature) []signatureRow {
	rows := make([]signatureRow, len(ss))
	for i, s := range ss {
		rows[i] = signatureRow{Signature: s, Image: signatureImage(s)}
		if s.Signer == "examiner" {
			rows[i].Name = v.Staff[s.SignedBy]
		}
	}
	return rows
}

// RefusalFor is the refused signature of signer, or nil.
func (v sheetView) RefusalFor(signer string) *rowRefusal {
	if v.Refusal != nil && v.Refusal.Row == signer {
		return v.Refusal
	}
	return nil
}

// signatureImage is a drawn signature as the data URL of an <img>: bytes
// checked as a PNG when they were signed (exam.DecodeSignaturePNG), in
// base64, so that nothing in them can leave the attribute.
func signatureImage(s exam.Signature) template.URL {
	if len(s.PNG) == 0 {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(s.PNG))
}

// sheetFor loads attempt id's sheet for the caller: an examiner sees their
// own venue's only, and the candidate's name masked (the tablet is seen by
// both); the office's other staff see it whole, as on their rosters.
func (h Handler) sheetFor(c echo.Context, id int64) (sheetView, error) {
	ctx := c.Request().Context()
	sh, err := h.Exams.Sheet(ctx, id, 0)
	if err != nil {
		return sheetView{}, err
	}
	p := auth.Caller(c)
	if p.Role == auth.RoleExaminer && (p.VenueID == nil || *p.VenueID != sh.VenueID) {
		return sheetView{}, refusal.ErrNotFound
	}
	cand, err := h.Scheduling.Candidate(ctx, sh.CandidateID)
	if err != nil {
		return sheetView{}, err
	}
	users, err := h.Accounts.StaffUsers(ctx)
	if err != nil {
		return sheetView{}, err
	}
	v := sheetView{Sheet: sh, Name: cand.Name, CanSign: p.Role == auth.RoleExaminer, Staff: map[int64]string{}, PrintedAt: h.Now()}
	if p.Role == auth.RoleExaminer {
		v.Name = scheduling.MaskName(cand.Name)
	}
	for _, u := range users {
		v.Staff[u.ID] = u.Username
	}
	return v, nil
}

// attemptID is the attempt named by the path; anything else is not found.
func attemptID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, refusal.ErrNotFound
	}
	return id, nil
}

// scoreSheet shows a finished attempt's score sheet with what is to sign.
func (h Handler) scoreSheet(c echo.Context) error {
	id, err := attemptID(c)
	if err != nil {
		return err
	}
	v, err := h.sheetFor(c, id)
	if err != nil {
		return err
	}
	v.Confirm = v.CanSign && c.QueryParam("step") == "examiner"
	if s := c.QueryParam("signed"); s == "examiner" || s == "candidate" {
		v.Signed = s
	}
	return h.render(c, http.StatusOK, "examiner_sheet", "sheet.title", v)
}

// signAttempt records a signature on a finished attempt's score sheet
// (ED-SIGN) at the examiner's own venue: the examiner's own (form field
// signer=examiner, the default), or the candidate's drawn on the tablet
// (signer=candidate, signature_png). Each needs confirm=yes: an examiner's
// signature without it goes to the confirmation step.
func (h Handler) signAttempt(c echo.Context) error {
	id, err := attemptID(c)
	if err != nil {
		return err
	}
	signer := c.FormValue("signer")
	if signer == "" {
		signer = "examiner"
	}
	r, err := exam.NewSignRequest(auth.Caller(c), id, signer)
	if errors.Is(err, refusal.Invalid("signer", "")) {
		return err
	}
	if err != nil {
		return refusal.ErrForbidden // the page's staff who are not the venue's examiners
	}
	v, err := h.sheetFor(c, id)
	if err != nil {
		return err
	}
	confirmed := c.FormValue("confirm") == "yes"
	if signer == "examiner" && !confirmed && v.Finished() {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/examiner/attempts/%d?step=examiner", id))
	}
	err = signFields(&r, signer, confirmed, c.FormValue("signature_png"))
	if err == nil {
		err = h.Exams.Sign(c.Request().Context(), r, h.Now())
	}
	if err == nil {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/examiner/attempts/%d?signed=%s", id, signer))
	}
	ref, ok := rowRefusalOf(err, signer)
	if !ok || errors.Is(err, refusal.ErrNotFound) {
		return err
	}
	if f, _ := refusal.As(err); f.Code == refusal.InvalidField {
		ref.Key = "sheet.invalid." + f.Field
	}
	if v, err = h.sheetFor(c, id); err != nil {
		return err
	}
	v.Refusal = ref
	return h.render(c, ref.Status, "examiner_sheet", "sheet.title", v)
}

// signFields checks what the page's candidate panel sends: their
// confirmation that they read the result and the drawing of their
// signature, which the page asks for (the API takes a signature without
// one).
func signFields(r *exam.SignRequest, signer string, confirmed bool, png string) error {
	if signer != "candidate" {
		return nil
	}
	if !confirmed {
		return refusal.Invalid("confirm", "the candidate confirms they read the result")
	}
	if png == "" {
		return refusal.Invalid("signature_png", "the candidate's signature, drawn")
	}
	var err error
	r.PNG, err = exam.DecodeSignaturePNG(png)
	return err
}
