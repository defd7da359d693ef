package scheduling

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// createWeek publishes a week of slots in one step (Week, CreateSlots), as
// the planners' week page does. A request with several bad fields answers
// with the first (the envelope holds one error); the page shows them all.
func (h Handler) createWeek(c echo.Context) error {
	var req struct {
		VenueID  *int64   `json:"venue_id"`
		Days     []string `json:"days"`
		Sessions []struct {
			Start string `json:"start"`
			End   string `json:"end"`
		} `json:"sessions"`
		Subjects         []int   `json:"subjects"`
		LicenceClass     *string `json:"licence_class"`
		Capacity         *int    `json:"capacity"`
		PriorityReserved *int    `json:"priority_reserved"`
		AdaptedVehicle   *bool   `json:"adapted_vehicle"`
		Allocation       *string `json:"allocation"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	var w Week
	var err error
	if w.VenueID, err = required(req.VenueID, "venue_id"); err != nil {
		return err
	}
	for _, d := range req.Days {
		day, err := ParseDate(d)
		if err != nil {
			return refusal.Invalid("days", "dates YYYY-MM-DD")
		}
		w.Days = append(w.Days, day)
	}
	for _, s := range req.Sessions {
		session, err := ParseSession(s.Start, s.End)
		if err != nil {
			return refusal.Invalid("sessions", `sessions {"start":"HH:MM","end":"HH:MM"}`)
		}
		w.Sessions = append(w.Sessions, session)
	}
	w.Subjects = req.Subjects
	if w.LicenceClass, err = required(req.LicenceClass, "licence_class"); err != nil {
		return err
	}
	if w.Capacity, err = required(req.Capacity, "capacity"); err != nil {
		return err
	}
	if req.PriorityReserved != nil {
		w.PriorityReserved = *req.PriorityReserved
	}
	if req.AdaptedVehicle != nil {
		w.AdaptedVehicle = *req.AdaptedVehicle
	}
	if req.Allocation != nil {
		w.Allocation = *req.Allocation
		if err := CheckAllocation(w.Allocation); err != nil {
			return err
		}
	}
	now := h.Now()
	slots, err := w.Slots(now)
	if err != nil {
		return err
	}
	if slots, err = h.Store.CreateSlots(c.Request().Context(), slots, auth.Caller(c).UserID); err != nil {
		return err
	}
	out := make([]slotJSON, len(slots))
	for i, s := range slots {
		out[i] = presentSlot(s, true, now)
	}
	return c.JSON(http.StatusCreated, map[string]any{"slots": out})
}
