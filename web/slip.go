package web

import (
	"context"
	"encoding/base64"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/scheduling"
)

// slipView is the booking slip (预约凭证): what the candidate shows at the
// venue, on the confirmation page and printed.
type slipView struct {
	Number string
	// Bookings are the booking and, for a combined exam, its other half
	// (for an all-subjects day, its two others), the earliest first.
	Bookings []scheduling.Booking
	Name     string
	IDNumber string
	Venue    scheduling.Venue
	Arrival  time.Time
	Notice   []scheduling.NoticeItem
	// QR is the booking number as a QR code, a PNG data URI.
	QR template.URL
	// Staff: the counter opened the slip (no cancel link, staff's back link).
	Staff bool
	// Cancellable and Deadline: the candidate may cancel until Deadline (BK-CANCEL).
	Cancellable bool
	Deadline    time.Time
	CandidateID int64
}

// First is the slip's earliest booking.
func (v slipView) First() scheduling.Booking { return v.Bookings[0] }

// slip loads booking id's slip; owner is the candidate (0 for staff), who
// sees only their own.
func (h Handler) slip(ctx context.Context, id, owner int64, now time.Time) (slipView, error) {
	b, err := h.Scheduling.Booking(ctx, id, owner)
	if err != nil {
		return slipView{}, err
	}
	v := slipView{Bookings: []scheduling.Booking{b}, CandidateID: b.CandidateID}
	// The bookings made with it (a combined exam's other half, an
	// all-subjects day's two others) are the same candidate's: owner's.
	others, err := h.Scheduling.BookedWith(ctx, b)
	if err != nil {
		return slipView{}, err
	}
	v.Bookings = append(v.Bookings, others...)
	slices.SortFunc(v.Bookings, func(x, y scheduling.Booking) int { return x.StartsAt.Compare(y.StartsAt) })
	first := v.Bookings[0]
	// The number of a combined exam (an all-subjects day) is its first
	// booking's, so that every slip of it shows the same one.
	v.Number = scheduling.BookingNumber(min(b.ID, first.ID))
	v.Arrival = scheduling.ArrivalAt(first.StartsAt)
	v.Deadline = scheduling.CancelDeadline(first.ExamDay)
	v.Cancellable = owner != 0 && scheduling.CheckCancel(b.Status, b.ExamDay, false, now) == nil
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return slipView{}, err
	}
	for _, ve := range venues {
		if ve.ID == first.VenueID {
			v.Venue = ve
		}
	}
	p, err := h.Scheduling.Candidate(ctx, b.CandidateID)
	if err != nil {
		return slipView{}, err
	}
	v.Name, v.IDNumber = p.Name, p.IDNumber
	if v.Notice, err = h.Scheduling.CandidateNotice(ctx, b.CandidateID, h.LicenceFeeYuan); err != nil {
		return slipView{}, err
	}
	png, err := qrcode.Encode(v.Number, qrcode.Medium, 256)
	if err != nil {
		return slipView{}, err
	}
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	return v, nil
}

// mySlip is the slip of the signed-in candidate's booking of the path's id.
func (h Handler) mySlip(c echo.Context) (int64, slipView, error) {
	id, err := api.PathID(c)
	if err != nil {
		return 0, slipView{}, err
	}
	if _, err := h.me(c); err != nil {
		return 0, slipView{}, err
	}
	v, err := h.slip(c.Request().Context(), id, auth.Caller(c).UserID, h.Now())
	return id, v, err
}

// bookingSlip shows the candidate their booking's slip: the page a booking
// lands on.
func (h Handler) bookingSlip(c echo.Context) error {
	_, v, err := h.mySlip(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "candidate_slip", "slip.title", v)
}

// staffSlip shows the counter a candidate's booking slip, to print for a
// walk-in.
func (h Handler) staffSlip(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	v, err := h.slip(c.Request().Context(), id, 0, h.Now())
	if err != nil {
		return err
	}
	v.Staff = true
	return h.render(c, http.StatusOK, "candidate_slip", "slip.title", v)
}

// bookingCalendar is the booking as an iCalendar file (RFC 5545), for the
// candidate's calendar: from the arrival time to the end of the last exam,
// at the venue, with what to bring.
func (h Handler) bookingCalendar(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	v, err := h.slip(c.Request().Context(), id, auth.Caller(c).UserID, h.Now())
	if err != nil {
		return err
	}
	en := language(c) == langEn
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+v.Number+`.ics"`)
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", []byte(calendar(v, en, h.Now())))
}

// subjectNames names the subjects of a slip for the calendar's summary.
func subjectNames(bs []scheduling.Booking, en bool) string {
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = "科目" + scheduling.SubjectZh(b.Subject)
		if en {
			names[i] = "Subject " + strconv.Itoa(b.Subject)
		}
	}
	if en {
		return strings.Join(names, " and ")
	}
	return strings.Join(names, "、")
}
