package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
)

// cancelPage asks the candidate to confirm a cancellation, saying until
// when they may cancel (BK-CANCEL) and what they cancel: the slip's data.
func (h Handler) cancelPage(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	if _, err := h.me(c); err != nil {
		return err
	}
	v, err := h.slip(c.Request().Context(), id, auth.Caller(c).UserID, h.Now())
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "candidate_cancel", "cancel.title", cancelView{slipView: v, ID: id})
}

// cancelView is the cancel confirmation's data: the booking's slip and the
// booking asked for.
type cancelView struct {
	slipView
	ID int64
}
