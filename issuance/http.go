package issuance

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// Handler serves the issuing desk.
type Handler struct {
	Store *Store
	// Authn resolves a user's bearer token.
	Authn echo.MiddlewareFunc
	Now   func() time.Time
}

// Register mounts the issuance routes on the /api/v1 group.
func (h Handler) Register(g *echo.Group) {
	issuer := auth.Require(auth.RoleIssuer)
	g.GET("/issuance/queue", h.queue, h.Authn, auth.Require(auth.RoleIssuer, auth.RoleAdmin))
	g.POST("/issuance/:id/call", h.call, h.Authn, issuer)
	g.POST("/issuance/:id/steps", h.step, h.Authn, issuer)
	g.GET("/me/journey", h.journey, h.Authn, auth.Require(auth.RoleCandidate))
	h.registerReports(g)
}

func (h Handler) queue(c echo.Context) error {
	now := h.Now()
	day, err := scheduling.DayParam(c.QueryParam("date"), now)
	if err != nil {
		return err
	}
	items, err := h.Store.Queue(c.Request().Context(), day, now)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"date": day.Format(time.DateOnly), "items": items})
}

func (h Handler) call(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	item, err := h.Store.Call(c.Request().Context(), id, staff(c), h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, item)
}

func (h Handler) step(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	var req struct {
		Step          *string  `json:"step"`
		Note          string   `json:"note"`
		Checklist     []string `json:"checklist"`
		PaymentMethod string   `json:"payment_method"`
		ReceiptNumber string   `json:"receipt_number"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	if req.Step == nil || !IsStep(*req.Step) {
		return refusal.Invalid("step", "one of accept (预受理), review_fee (审核缴费), print (制证)")
	}
	in := StepInput{Note: req.Note, Checklist: req.Checklist, PaymentMethod: req.PaymentMethod, ReceiptNumber: req.ReceiptNumber}
	res, err := h.Store.Step(c.Request().Context(), id, *req.Step, in, staff(c), h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (h Handler) journey(c echo.Context) error {
	j, err := h.Store.Journey(c.Request().Context(), auth.Caller(c).UserID, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

// staff is the caller as the desk records them.
func staff(c echo.Context) Staff {
	p := auth.Caller(c)
	return Staff{UserID: p.UserID, Desk: p.Desk}
}
