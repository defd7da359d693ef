package scheduling

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
)

// candidateJSON is a candidate as staff see them.
type candidateJSON struct {
	ID               int64   `json:"id"`
	IDNumber         string  `json:"id_number"`
	Name             string  `json:"name"`
	Phone            string  `json:"phone"`
	LicenceClass     string  `json:"licence_class"`
	PermitIssuedOn   string  `json:"permit_issued_on"`
	PermitExpiresOn  string  `json:"permit_expires_on"`
	Subject1PassedOn *string `json:"subject1_passed_on"`
	HoldsCarLicence  bool    `json:"holds_car_licence"`
	Priority         *Grant  `json:"priority"`
	// Package is the package grant in force (BK-PACKAGE), null without one.
	Package *PackageGrant `json:"package"`
}

func presentCandidate(p CandidateProfile) candidateJSON {
	j := candidateJSON{
		ID: p.ID, IDNumber: p.IDNumber, Name: p.Name, Phone: p.Phone, LicenceClass: p.LicenceClass,
		PermitIssuedOn:  p.PermitIssuedOn.Format(time.DateOnly),
		PermitExpiresOn: p.PermitExpiresOn.Format(time.DateOnly),
		HoldsCarLicence: p.HoldsCarLicence, Priority: p.Priority,
		Package: p.Package,
	}
	if p.Subject1PassedOn != nil {
		s := p.Subject1PassedOn.Format(time.DateOnly)
		j.Subject1PassedOn = &s
	}
	return j
}

func (h Handler) createCandidate(c echo.Context) error {
	var req struct {
		IDNumber         *string `json:"id_number"`
		Name             *string `json:"name"`
		Phone            *string `json:"phone"`
		LicenceClass     *string `json:"licence_class"`
		PermitIssuedOn   *string `json:"permit_issued_on"`
		PermitExpiresOn  *string `json:"permit_expires_on"`
		Subject1PassedOn *string `json:"subject1_passed_on"`
		HoldsCarLicence  *bool   `json:"holds_car_licence"`
		Password         *string `json:"password"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	var n NewCandidate
	var err error
	if n.IDNumber, err = required(req.IDNumber, "id_number"); err != nil {
		return err
	}
	if n.Name, err = required(req.Name, "name"); err != nil {
		return err
	}
	if n.Phone, err = required(req.Phone, "phone"); err != nil {
		return err
	}
	if n.LicenceClass, err = required(req.LicenceClass, "licence_class"); err != nil {
		return err
	}
	issued, err := parseDate(req.PermitIssuedOn, "permit_issued_on", false)
	if err != nil {
		return err
	}
	expires, err := parseDate(req.PermitExpiresOn, "permit_expires_on", false)
	if err != nil {
		return err
	}
	n.PermitIssuedOn, n.PermitExpiresOn = *issued, *expires
	if n.Subject1PassedOn, err = parseDate(req.Subject1PassedOn, "subject1_passed_on", true); err != nil {
		return err
	}
	if req.HoldsCarLicence != nil {
		n.HoldsCarLicence = *req.HoldsCarLicence
	}
	if n.Password, err = required(req.Password, "password"); err != nil {
		return err
	}
	if err := n.Validate(Day(h.Now())); err != nil {
		return err
	}
	hash, err := h.Accounts.Hash(c.Request().Context(), n.Password)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id, err := h.Store.CreateCandidate(ctx, n, hash, auth.Caller(c).UserID)
	if err != nil {
		return err
	}
	p, err := h.Store.Candidate(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, presentCandidate(p))
}

func (h Handler) getCandidate(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	p, err := h.Store.Candidate(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, presentCandidate(p))
}

func (h Handler) grantPriority(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason *string   `json:"reason"`
		Needs  *[]string `json:"needs"`
		Note   *string   `json:"note"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	var g NewGrant
	if g.Reason, err = required(req.Reason, "reason"); err != nil {
		return err
	}
	if req.Needs != nil {
		g.Needs = *req.Needs
	}
	if req.Note != nil {
		g.Note = *req.Note
	}
	if err := g.Validate(); err != nil {
		return err
	}
	grant, err := h.Store.GrantPriority(c.Request().Context(), id, g, auth.Caller(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"candidate_id": id, "priority": grant})
}

func (h Handler) revokePriority(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	if err := h.Store.RevokePriority(c.Request().Context(), id, auth.Caller(c).UserID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"candidate_id": id, "priority": nil})
}

// grantPackage serves POST /candidates/{id}/package {"reason","note"}: the
// all-subjects day (BK-PACKAGE), granted as the priority lane is.
func (h Handler) grantPackage(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason *string `json:"reason"`
		Note   *string `json:"note"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	var g NewPackageGrant
	if g.Reason, err = required(req.Reason, "reason"); err != nil {
		return err
	}
	if req.Note != nil {
		g.Note = *req.Note
	}
	if err := g.Validate(); err != nil {
		return err
	}
	grant, err := h.Store.GrantPackage(c.Request().Context(), id, g, auth.Caller(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"candidate_id": id, "package": grant})
}

func (h Handler) revokePackage(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	if err := h.Store.RevokePackage(c.Request().Context(), id, auth.Caller(c).UserID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"candidate_id": id, "package": nil})
}

// myPackage serves GET /me/package: whether the candidate holds the
// all-subjects day, and why.
func (h Handler) myPackage(c echo.Context) error {
	id := auth.Caller(c).UserID
	g, err := h.Store.ActivePackage(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"candidate_id": id, "package": g})
}
