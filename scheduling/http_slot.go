package scheduling

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// slotJSON is a slot as the API shows it: times in Asia/Shanghai, and the
// seats the caller may still book.
type slotJSON struct {
	ID                int64     `json:"id"`
	VenueID           int64     `json:"venue_id"`
	Subject           int       `json:"subject"`
	LicenceClass      string    `json:"licence_class"`
	Date              string    `json:"date"`
	StartsAt          time.Time `json:"starts_at"`
	EndsAt            time.Time `json:"ends_at"`
	Capacity          int       `json:"capacity"`
	PriorityReserved  int       `json:"priority_reserved"`
	ReserveReleaseAt  time.Time `json:"reserve_release_at"`
	BookingOpensAt    time.Time `json:"booking_opens_at"`
	BookingClosesAt   time.Time `json:"booking_closes_at"`
	AdaptedVehicle    bool      `json:"adapted_vehicle"`
	StepFree          bool      `json:"step_free"`
	Booked            int       `json:"booked"`
	SeatsLeft         int       `json:"seats_left"`
	PrioritySeatsLeft int       `json:"priority_seats_left"`
	BookingOpen       bool      `json:"booking_open"`
	// Allocation is "instant" or "ranked" (RA-*); AllocatedAt is when a
	// ranked slot was allocated.
	Allocation  string     `json:"allocation"`
	AllocatedAt *time.Time `json:"allocated_at,omitempty"`
}

// presentSlot shows s to a caller who books in the lane (or is staff) or not.
func presentSlot(s Slot, lane bool, now time.Time) slotJSON {
	return slotJSON{
		ID: s.ID, VenueID: s.VenueID, Subject: s.Subject, LicenceClass: s.LicenceClass,
		Date:     s.Day().Format(time.DateOnly),
		StartsAt: s.StartsAt.In(Shanghai), EndsAt: s.EndsAt.In(Shanghai),
		Capacity: s.Capacity, PriorityReserved: s.PriorityReserved,
		ReserveReleaseAt: s.ReserveReleaseAt.In(Shanghai),
		BookingOpensAt:   s.BookingOpensAt.In(Shanghai), BookingClosesAt: s.BookingClosesAt.In(Shanghai),
		AdaptedVehicle: s.AdaptedVehicle, StepFree: s.VenueStepFree, Booked: s.Booked,
		SeatsLeft: s.SeatsLeft(lane, now), PrioritySeatsLeft: s.HeldForLane(now),
		BookingOpen: s.Open(now), Allocation: s.allocation(), AllocatedAt: s.AllocatedAt,
	}
}

func (h Handler) createSlot(c echo.Context) error {
	var req struct {
		VenueID          *int64  `json:"venue_id"`
		Subject          *int    `json:"subject"`
		LicenceClass     *string `json:"licence_class"`
		StartsAt         *string `json:"starts_at"`
		EndsAt           *string `json:"ends_at"`
		Capacity         *int    `json:"capacity"`
		PriorityReserved *int    `json:"priority_reserved"`
		ReserveReleaseAt *string `json:"reserve_release_at"`
		BookingOpensAt   *string `json:"booking_opens_at"`
		BookingClosesAt  *string `json:"booking_closes_at"`
		AdaptedVehicle   *bool   `json:"adapted_vehicle"`
		Allocation       *string `json:"allocation"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	var n NewSlot
	var err error
	if n.VenueID, err = required(req.VenueID, "venue_id"); err != nil {
		return err
	}
	if n.Subject, err = required(req.Subject, "subject"); err != nil {
		return err
	}
	if n.LicenceClass, err = required(req.LicenceClass, "licence_class"); err != nil {
		return err
	}
	starts, err := parseInstant(req.StartsAt, "starts_at", false)
	if err != nil {
		return err
	}
	ends, err := parseInstant(req.EndsAt, "ends_at", false)
	if err != nil {
		return err
	}
	n.StartsAt, n.EndsAt = *starts, *ends
	if n.Capacity, err = required(req.Capacity, "capacity"); err != nil {
		return err
	}
	if req.PriorityReserved != nil {
		n.PriorityReserved = *req.PriorityReserved
	}
	if n.ReserveReleaseAt, err = parseInstant(req.ReserveReleaseAt, "reserve_release_at", true); err != nil {
		return err
	}
	if n.BookingOpensAt, err = parseInstant(req.BookingOpensAt, "booking_opens_at", true); err != nil {
		return err
	}
	if n.BookingClosesAt, err = parseInstant(req.BookingClosesAt, "booking_closes_at", true); err != nil {
		return err
	}
	if req.AdaptedVehicle != nil {
		n.AdaptedVehicle = *req.AdaptedVehicle
	}
	if req.Allocation != nil {
		n.Allocation = *req.Allocation
		if err := CheckAllocation(n.Allocation); err != nil {
			return err
		}
	}
	now := h.Now()
	s, err := n.Slot(now)
	if err != nil {
		return err
	}
	s, err = h.Store.CreateSlot(c.Request().Context(), s, auth.Caller(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, presentSlot(s, true, now))
}

// setAllocation switches a slot between instant and ranked allocation
// (Store.SetAllocation): {"allocation":"ranked"}, the one field a slot may
// change after its publication.
func (h Handler) setAllocation(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	var req struct {
		Allocation *string `json:"allocation"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	allocation, err := required(req.Allocation, "allocation")
	if err != nil {
		return err
	}
	now := h.Now()
	s, err := h.Store.SetAllocation(c.Request().Context(), id, allocation, auth.Caller(c).UserID, now)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, presentSlot(s, true, now))
}

// lane reports whether the caller sees every unbooked seat: staff, and
// candidates on the priority lane.
func (h Handler) lane(c echo.Context) (bool, error) {
	p := auth.Caller(c)
	if p.IsStaff() {
		return true, nil
	}
	return h.Store.HasPriority(c.Request().Context(), p.UserID)
}

func (h Handler) listSlots(c echo.Context) error {
	now := h.Now()
	today := Day(now)
	f := SlotFilter{From: today, To: today.AddDate(0, 0, 30), LicenceClass: c.QueryParam("licence_class")}
	if len(f.LicenceClass) > 8 || !api.Text(f.LicenceClass) {
		return refusal.Invalid("licence_class", "a licence class such as C1")
	}
	if v := c.QueryParam("subject"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > 4 {
			return refusal.Invalid("subject", "2, 3 or 4")
		}
		f.Subject = n
	}
	if v := c.QueryParam("venue_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return refusal.Invalid("venue_id", "a positive id")
		}
		f.VenueID = n
	}
	for _, q := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.QueryParam(q.name); v != "" {
			d, err := ParseDate(v)
			if err != nil {
				return refusal.Invalid(q.name, "a date YYYY-MM-DD")
			}
			*q.dst = d
		}
	}
	if f.To.Before(f.From) {
		return refusal.Invalid("to", "must not be before from")
	}
	if f.To.Sub(f.From) > 366*24*time.Hour {
		return refusal.Invalid("to", "at most a year after from")
	}
	lane, err := h.lane(c)
	if err != nil {
		return err
	}
	slots, truncated, err := h.Store.FindSlots(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]slotJSON, len(slots))
	for i, s := range slots {
		out[i] = presentSlot(s, lane, now)
	}
	// truncated: more slots match than one answer lists; narrow the filter.
	return c.JSON(http.StatusOK, map[string]any{"slots": out, "truncated": truncated})
}

func (h Handler) getSlot(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	s, err := h.Store.Slot(c.Request().Context(), id)
	if err != nil {
		return err
	}
	lane, err := h.lane(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, presentSlot(s, lane, h.Now()))
}

func (h Handler) roster(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	entries, err := h.Store.Roster(c.Request().Context(), id)
	if err != nil {
		return err
	}
	// Examiners' screens are shared: names and ID numbers are masked there.
	if auth.Caller(c).Role == auth.RoleExaminer {
		for i := range entries {
			entries[i].Name = MaskName(entries[i].Name)
			entries[i].IDNumber = MaskIDNumber(entries[i].IDNumber)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"slot_id": id, "candidates": entries})
}
