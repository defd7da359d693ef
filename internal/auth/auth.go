// Package auth owns accounts and sessions: who is calling and in which role.
// Passwords are hashed with bcrypt; tokens are random and stored as SHA-256.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"time"
)

// Roles a user can have.
const (
	RoleAdmin     = "admin"
	RoleScheduler = "scheduler"
	RoleExaminer  = "examiner"
	RoleIssuer    = "issuer"
	RoleCandidate = "candidate"
)

// StaffRoles are the roles an admin may give through POST /users;
// candidates come into being with their learning permit.
var StaffRoles = []string{RoleAdmin, RoleScheduler, RoleExaminer, RoleIssuer}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID  int64  `db:"id"`
	Role    string `db:"role"`
	VenueID *int64 `db:"venue_id"`
	Desk    string `db:"desk"`
}

// Owner is the candidate whose data the caller may see: themselves for a
// candidate, 0 (anyone's) for staff.
func (p Principal) Owner() int64 {
	if p.Role == RoleCandidate {
		return p.UserID
	}
	return 0
}

// IsStaff reports whether the caller works for the office.
func (p Principal) IsStaff() bool { return p.Role != RoleCandidate && p.Role != "" }

// shanghai is the office's time zone, in which the API shows instants
// (scheduling.Shanghai, which this package cannot import).
var shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// Session is a freshly issued login.
type Session struct {
	Token     string    `json:"token"`
	Role      string    `json:"role"`
	ExpiresAt time.Time `json:"expires_at"`
}

// NewUser is an account to create.
type NewUser struct {
	Username string
	Password string
	Role     string
	VenueID  *int64
	Desk     string
}

// RandomPassword returns a password for the first admin when none is configured.
func RandomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
