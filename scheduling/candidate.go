package scheduling

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
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
	switch {
	case !ValidIDNumber(n.IDNumber, today):
		return invalid("id_number", "not a valid 18-character resident ID number")
	case n.Name == "" || utf8.RuneCountInString(n.Name) > 64:
		return invalid("name", "required, at most 64 characters")
	case !ValidPhone(n.Phone):
		return invalid("phone", "not an 11-digit mainland mobile number")
	case n.LicenceClass == "":
		return invalid("licence_class", "required")
	case n.PermitIssuedOn.IsZero() || n.PermitIssuedOn.After(today):
		return invalid("permit_issued_on", "required, not in the future")
	case !n.PermitExpiresOn.After(n.PermitIssuedOn):
		return invalid("permit_expires_on", "must be after permit_issued_on")
	case n.PermitExpiresOn.After(n.PermitIssuedOn.AddDate(PermitYears, 0, 0)):
		// BK-PERMIT: a learning permit is valid for 3 years.
		return invalid("permit_expires_on", "a learning permit is valid for at most 3 years")
	case n.Subject1PassedOn != nil && (n.Subject1PassedOn.After(today) || n.Subject1PassedOn.After(n.PermitIssuedOn)):
		// The learning permit is issued once subject 1 is passed (BK-SUBJ1).
		return invalid("subject1_passed_on", "must not be in the future or after permit_issued_on: the permit follows subject 1")
	case len(n.Password) < 8 || len(n.Password) > 72:
		return invalid("password", "8 to 72 characters")
	}
	if birth, ok := BirthDate(n.IDNumber); ok && !birth.Before(n.PermitIssuedOn) {
		return invalid("permit_issued_on", "before the candidate's birth date")
	}
	return nil
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
