package scheduling

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"examd/internal/refusal"
)

// CandidateProfile is a candidate as staff see them.
type CandidateProfile struct {
	ID               int64      `db:"id" json:"id"`
	IDNumber         string     `db:"id_number" json:"id_number"`
	Name             string     `db:"name" json:"name"`
	Phone            string     `db:"phone" json:"phone"`
	LicenceClass     string     `db:"licence_class" json:"licence_class"`
	PermitIssuedOn   time.Time  `db:"permit_issued_on" json:"-"`
	PermitExpiresOn  time.Time  `db:"permit_expires_on" json:"-"`
	Subject1PassedOn *time.Time `db:"subject1_passed_on" json:"-"`
	HoldsCarLicence  bool       `db:"holds_car_licence" json:"holds_car_licence"`
	Priority         *Grant     `db:"-" json:"priority"`
	// Package is the package grant in force (BK-PACKAGE), nil without one.
	Package *PackageGrant `db:"-" json:"package"`
}

// NewCandidate is a candidate to register, with the password of their account.
type NewCandidate struct {
	IDNumber         string
	Name             string
	Phone            string
	LicenceClass     string
	PermitIssuedOn   time.Time
	PermitExpiresOn  time.Time
	Subject1PassedOn *time.Time
	HoldsCarLicence  bool
	Password         string
}

// Validate checks the fields in the order of the API and normalises the ID
// number. today is the office's current day.
func (n *NewCandidate) Validate(today time.Time) error {
	n.IDNumber = NormalizeIDNumber(n.IDNumber)
	n.Name = strings.TrimSpace(n.Name)
	var bad refusal.List
	refuse := func(field, message string) { bad = append(bad, refusal.Invalid(field, message)) }
	idOK := ValidIDNumber(n.IDNumber, today)
	if !idOK {
		refuse("id_number", "not a valid 18-character resident ID number")
	}
	if n.Name == "" || utf8.RuneCountInString(n.Name) > 64 {
		refuse("name", "required, at most 64 characters")
	}
	if !ValidPhone(n.Phone) {
		refuse("phone", "not an 11-digit mainland mobile number")
	}
	if n.LicenceClass == "" {
		refuse("licence_class", "required")
	}
	issuedOK := !n.PermitIssuedOn.IsZero() && !n.PermitIssuedOn.After(today)
	if !issuedOK {
		refuse("permit_issued_on", "required, not in the future")
	}
	switch {
	case !n.PermitExpiresOn.After(n.PermitIssuedOn):
		refuse("permit_expires_on", "must be after permit_issued_on")
	case n.PermitExpiresOn.After(n.PermitIssuedOn.AddDate(PermitYears, 0, 0)):
		// BK-PERMIT: a learning permit is valid for 3 years.
		refuse("permit_expires_on", "a learning permit is valid for at most 3 years")
	}
	if n.Subject1PassedOn != nil && (n.Subject1PassedOn.After(today) || n.Subject1PassedOn.After(n.PermitIssuedOn)) {
		// The learning permit is issued once subject 1 is passed (BK-SUBJ1).
		refuse("subject1_passed_on", "must not be in the future or after permit_issued_on: the permit follows subject 1")
	}
	if len(n.Password) < 8 || len(n.Password) > 72 {
		refuse("password", "8 to 72 characters")
	}
	// Last, as it always was: the API's answer is the first refusal.
	if birth, ok := BirthDate(n.IDNumber); idOK && issuedOK && ok && !birth.Before(n.PermitIssuedOn) {
		refuse("permit_issued_on", "before the candidate's birth date")
	}
	// Every bad field at once, in the order of the API.
	return bad.Err()
}

// NewGrant is a priority-lane grant to record (PL-GRANT).
type NewGrant struct {
	Reason string
	Needs  []string
	Note   string
}

// Validate checks reason and needs against the lists of PL-GRANT and drops repeated needs.
func (g *NewGrant) Validate() error {
	if !slices.Contains(PriorityReasons, g.Reason) {
		return invalid("reason", "one of "+strings.Join(PriorityReasons, ", "))
	}
	var needs []string
	for _, n := range g.Needs {
		if !slices.Contains(PriorityNeeds, n) {
			return invalid("needs", "each one of "+strings.Join(PriorityNeeds, ", "))
		}
		if !slices.Contains(needs, n) {
			needs = append(needs, n)
		}
	}
	if needs == nil {
		needs = []string{}
	}
	g.Needs = needs
	if utf8.RuneCountInString(g.Note) > 500 || !utf8.ValidString(g.Note) || strings.ContainsRune(g.Note, 0) {
		return invalid("note", "at most 500 characters of text")
	}
	return nil
}
