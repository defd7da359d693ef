package scheduling

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// decodeApplyRequest reads a booking request's body that lists preferences
// ({"preferences":[[…],…]}, optionally with "slot_ids" as the first
// option and "candidate_id" for staff): ok is false when the body has no
// "preferences", and then it is an ordinary booking request.
func decodeApplyRequest(body []byte, caller auth.Principal) (ApplyRequest, bool, error) {
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) != nil {
		return ApplyRequest{}, false, nil // DecodeBookRequest says what is wrong
	}
	if _, ok := keys["preferences"]; !ok {
		return ApplyRequest{}, false, nil
	}
	var req struct {
		SlotIDs     []int64   `json:"slot_ids"`
		Preferences [][]int64 `json:"preferences"`
		CandidateID *int64    `json:"candidate_id"`
	}
	if err := api.Decode(body, &req); err != nil {
		return ApplyRequest{}, true, err
	}
	r := ApplyRequest{By: caller.UserID}
	if len(req.SlotIDs) > 0 {
		r.Preferences = append(r.Preferences, req.SlotIDs)
	}
	r.Preferences = append(r.Preferences, req.Preferences...)
	switch {
	case caller.Role != auth.RoleCandidate:
		if req.CandidateID != nil {
			r.CandidateID = *req.CandidateID
		}
	case req.CandidateID != nil && *req.CandidateID != caller.UserID:
		return ApplyRequest{}, true, refusal.Invalid("candidate_id", "candidates apply for themselves")
	default:
		r.CandidateID = caller.UserID
	}
	return r, true, r.Validate()
}

// apply records an application and answers 201 with it (status "applied").
func (h Handler) apply(c echo.Context, r ApplyRequest) error {
	a, err := h.Store.Apply(c.Request().Context(), r, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

// withdraw serves DELETE /api/v1/applications/{id}: a candidate withdraws
// their application (staff any) until the window closes.
func (h Handler) withdraw(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	p := auth.Caller(c)
	a, err := h.Store.Withdraw(c.Request().Context(), id, p.Owner(), p.UserID, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// allocateSlot serves POST /api/v1/slots/{id}/allocate: a scheduler
// allocates a ranked slot now (closing its window early when still open).
func (h Handler) allocateSlot(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	r, err := h.Store.AllocateSlot(c.Request().Context(), id, auth.Caller(c).UserID, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// rankedList serves GET /api/v1/slots/{id}/applications: the ranked list
// of a slot's applications, ID numbers masked.
func (h Handler) rankedList(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	es, err := h.Store.RankedList(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"slot_id": id, "applications": es})
}
