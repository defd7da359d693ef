package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// cancelPage asks the candidate to confirm a cancellation, saying until
// when they may cancel (BK-CANCEL) and what they cancel: the slip's data.
func (h Handler) cancelPage(c echo.Context) error {
	id, v, err := h.mySlip(c)
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
