package exam

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// Handler serves devices, the rule catalogue, device events and score sheets.
type Handler struct {
	Store *Store
	// Authn resolves a user's bearer token.
	Authn echo.MiddlewareFunc
	Now   func() time.Time
}

const deviceKey = "examd.device"

// Register mounts the exam routes on the /api/v1 group.
func (h Handler) Register(g *echo.Group) {
	admin := auth.Require(auth.RoleAdmin)
	anyone := auth.Require(auth.RoleAdmin, auth.RoleScheduler, auth.RoleExaminer, auth.RoleIssuer, auth.RoleCandidate)

	g.POST("/devices", h.createDevice, h.Authn, admin)
	g.DELETE("/devices/:id", h.retireDevice, h.Authn, admin)
	g.GET("/rules", h.rules, h.userOrDevice(anyone))
	g.POST("/exam/events", h.event, h.deviceBy(h.Store.EventDevice))
	g.GET("/attempts/:id", h.sheet, h.Authn, anyone)
	g.GET("/bookings/:id/attempts", h.bookingAttempts, h.Authn, anyone)
	g.POST("/attempts/:id/signatures", h.sign, h.Authn, auth.Require(auth.RoleExaminer, auth.RoleCandidate))
	g.POST("/attempts/:id/corrections", h.correct, h.Authn, auth.Require(auth.RoleExaminer, auth.RoleAdmin))
	g.POST("/slots/:id/close", h.closeSlot, h.Authn, auth.Require(auth.RoleScheduler, auth.RoleAdmin, auth.RoleExaminer))
	g.GET("/me/queue", h.myQueue, h.Authn, auth.Require(auth.RoleCandidate))
}

// myQueue is the caller's place in today's queue and when they are
// expected to be called.
func (h Handler) myQueue(c echo.Context) error {
	q, err := h.Store.MyQueue(c.Request().Context(), auth.Caller(c).UserID, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, q)
}

// device is middleware for judging devices: Authorization: Device <key>.
func (h Handler) device(next echo.HandlerFunc) echo.HandlerFunc {
	return h.deviceBy(h.Store.DeviceByKey)(next)
}

// deviceBy is device's middleware with the key looked up by find.
func (h Handler) deviceBy(find func(context.Context, string) (Device, error)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			scheme, key, _ := strings.Cut(c.Request().Header.Get("Authorization"), " ")
			if !strings.EqualFold(scheme, "Device") || key == "" {
				return refusal.ErrUnauthorized
			}
			d, err := find(c.Request().Context(), strings.TrimSpace(key))
			if errors.Is(err, refusal.ErrNotFound) {
				return refusal.ErrUnauthorized
			}
			if err != nil {
				return err
			}
			c.Set(deviceKey, d)
			return next(c)
		}
	}
}

// userOrDevice admits a device, or a user passing require.
func (h Handler) userOrDevice(require echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		asDevice, asUser := h.device(next), h.Authn(require(next))
		return func(c echo.Context) error {
			if scheme, _, _ := strings.Cut(c.Request().Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Device") {
				return asDevice(c)
			}
			return asUser(c)
		}
	}
}

func (h Handler) createDevice(c echo.Context) error {
	var req struct {
		VenueID        *int64    `json:"venue_id"`
		Name           *string   `json:"name"`
		VehiclePlate   *string   `json:"vehicle_plate"`
		Subjects       *[]int64  `json:"subjects"`
		LicenceClasses *[]string `json:"licence_classes"`
		AdaptedVehicle *bool     `json:"adapted_vehicle"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	var d Device
	if req.VenueID != nil {
		d.VenueID = *req.VenueID
	}
	if req.Name != nil {
		d.Name = *req.Name
	}
	if req.VehiclePlate != nil {
		d.VehiclePlate = *req.VehiclePlate
	}
	if req.Subjects != nil {
		d.Subjects = pq.Int64Array(*req.Subjects)
	}
	if req.LicenceClasses != nil {
		d.LicenceClasses = pq.StringArray(*req.LicenceClasses)
	}
	if req.AdaptedVehicle != nil {
		d.AdaptedVehicle = *req.AdaptedVehicle
	}
	// CreateDevice validates the device (Device.Validate).
	d, key, err := h.Store.CreateDevice(c.Request().Context(), d, auth.Caller(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, struct {
		Device
		Key string `json:"key"`
	}{d, key})
}

func (h Handler) retireDevice(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	if err := h.Store.RetireDevice(c.Request().Context(), id, auth.Caller(c).UserID, h.Now()); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "retired": true})
}

func (h Handler) rules(c echo.Context) error {
	subject := 0
	if v := c.QueryParam("subject"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > 4 {
			return refusal.Invalid("subject", "2, 3 or 4")
		}
		subject = n
	}
	version, rules, err := h.Store.Rules(c.Request().Context(), subject)
	if err != nil {
		return err
	}
	if subject == 4 {
		rules = []Rule{} // subject 4 is scored by the theory terminal, without deductions
	}
	return c.JSON(http.StatusOK, map[string]any{"version": version, "rules": rules})
}

func (h Handler) event(c echo.Context) error {
	body, err := api.Body(c)
	if err != nil {
		return err
	}
	ev, err := DecodeEvent(body)
	if err != nil {
		return err
	}
	dev, _ := c.Get(deviceKey).(Device)
	answer, fresh, err := h.Store.Ingest(c.Request().Context(), dev, ev, h.Now())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if fresh {
		status = http.StatusCreated
	}
	return c.JSONBlob(status, answer)
}

// isUUID checks the textual form of a UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", r):
			return false
		}
	}
	return true
}

func (h Handler) sheet(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	sh, err := h.Store.Sheet(c.Request().Context(), id, auth.Caller(c).Owner())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sh)
}

func (h Handler) bookingAttempts(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	ids, err := h.Store.BookingAttempts(c.Request().Context(), id, auth.Caller(c).Owner())
	if err != nil {
		return err
	}
	sheets := []ScoreSheet{}
	for _, a := range ids {
		sh, err := h.Store.Sheet(c.Request().Context(), a, auth.Caller(c).Owner())
		if err != nil {
			return err
		}
		sheets = append(sheets, sh)
	}
	return c.JSON(http.StatusOK, map[string]any{"attempts": sheets})
}

func (h Handler) sign(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	var req struct {
		Signer *string `json:"signer"`
		// SignaturePNG is the drawn signature, base64 (ED-SIGN).
		SignaturePNG *string `json:"signature_png"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	if req.Signer == nil {
		return refusal.Invalid("signer", "examiner or candidate")
	}
	r, err := NewSignRequest(auth.Caller(c), id, *req.Signer)
	if err != nil {
		return err
	}
	if req.SignaturePNG != nil {
		if r.PNG, err = DecodeSignaturePNG(*req.SignaturePNG); err != nil {
			return err
		}
	}
	if err := h.Store.Sign(c.Request().Context(), r, h.Now()); err != nil {
		return err
	}
	sh, err := h.Store.Sheet(c.Request().Context(), id, r.Owner)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sh)
}

func (h Handler) closeSlot(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	var venue int64
	if p := auth.Caller(c); p.Role == auth.RoleExaminer {
		if p.VenueID == nil {
			return refusal.ErrNotFound
		}
		venue = *p.VenueID
	}
	ended, err := h.Store.CloseSlot(c.Request().Context(), id, venue, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"bookings": ended})
}

func (h Handler) correct(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	var req struct {
		Score  *int    `json:"score"`
		Reason *string `json:"reason"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	switch {
	case req.Score == nil || *req.Score < 0 || *req.Score > FullScore:
		return refusal.Invalid("score", "the corrected score, 0 to 100")
	case req.Reason == nil || strings.TrimSpace(*req.Reason) == "" || len(*req.Reason) > 1000:
		return refusal.Invalid("reason", "why the result is corrected, required")
	}
	p := auth.Caller(c)
	r := CorrectRequest{AttemptID: id, Score: *req.Score, Reason: strings.TrimSpace(*req.Reason), By: p.UserID}
	if p.Role == auth.RoleExaminer {
		if p.VenueID == nil {
			return refusal.ErrNotFound
		}
		r.VenueID = *p.VenueID
	}
	if err := h.Store.Correct(c.Request().Context(), r, h.Now()); err != nil {
		return err
	}
	sh, err := h.Store.Sheet(c.Request().Context(), id, 0)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sh)
}
