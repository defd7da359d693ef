package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// planPackage grants the candidate the all-subjects day (BK-PACKAGE), as
// POST /candidates/:id/package does; every bad field is shown at once.
func (h Handler) planPackage(c echo.Context) error {
	id, f, err := pathForm(c)
	if err != nil {
		return err
	}
	g := scheduling.NewPackageGrant{Reason: f.Get("package_reason"), Note: f.Get("package_note")}
	sent := g
	if err := g.Validate(); err != nil {
		fe, ok := formErrorOf(err)
		if !ok {
			return err
		}
		// The form's fields are named apart from the lane form's.
		for i, e := range fe {
			if e.Field == "reason" || e.Field == "note" {
				fe[i] = invalidField("package_" + e.Field)
			}
		}
		return h.candidatePageWith(c, http.StatusUnprocessableEntity, id, nil, &sent, fe, nil)
	}
	_, err = h.Scheduling.GrantPackage(c.Request().Context(), id, g, auth.Caller(c).UserID)
	if errors.Is(err, refusal.ErrNotFound) {
		return refusal.ErrNotFound
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/candidates/%d?done=package_granted", id))
}

// planPackageRevoke ends the candidate's package grant.
func (h Handler) planPackageRevoke(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	err = h.Scheduling.RevokePackage(c.Request().Context(), id, auth.Caller(c).UserID)
	if errors.Is(err, refusal.ErrNotFound) {
		return refusal.ErrNotFound
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/candidates/%d?done=package_revoked", id))
}

// PackageChosen reports whether the package form selects reason: as sent,
// else as the grant in force says.
func (v candidateView) PackageChosen(reason string) bool {
	if v.Package != nil {
		return v.Package.Reason == reason
	}
	return v.Profile.Package != nil && v.Profile.Package.Reason == reason
}
