package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/issuance"
)

// receiptView is the data of the desk's printed receipt.
type receiptView struct {
	// Kind is "accept" (受理回执) or "fee" (缴费凭证).
	Kind string
	issuance.Receipt
}

// Title is the catalogue key of the receipt's title.
func (v receiptView) Title() string { return "receipt.title_" + v.Kind }

// deskReceipt shows the candidate's receipt for printing at 80 mm
// (?kind=fee: the fee slip, 缴费凭证; otherwise the acceptance receipt,
// 受理回执): the candidate's own, so with their full name and their ID number
// masked.
func (h Handler) deskReceipt(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	r, err := h.Issuing.Receipt(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v := receiptView{Kind: "accept", Receipt: r}
	if c.QueryParam("kind") == "fee" {
		v.Kind = "fee"
	}
	return h.render(c, http.StatusOK, "desk_receipt", v.Title(), v)
}
