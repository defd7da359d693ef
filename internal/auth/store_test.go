package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"examd/internal/auth"
	"examd/internal/pg/pgtest"
	"examd/internal/refusal"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func ptr[T any](v T) *T { return &v }

// TestStaffUsers: the admin's list holds every staff account with its role,
// venue and desk, by username, and no candidate's account.
func TestStaffUsers(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := context.Background()
	s, err := auth.NewStore(db, 4, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var venue int64
	if err := db.Get(&venue, `INSERT INTO venues (name) VALUES ('第一考场') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureAdmin(ctx, "admin-secret"); err != nil {
		t.Fatal(err)
	}
	var admin int64
	if err := db.Get(&admin, `SELECT id FROM users WHERE username = 'admin'`); err != nil {
		t.Fatal(err)
	}
	for _, u := range []auth.NewUser{
		{Username: "zhang.examiner", Password: "secret-pw-1", Role: auth.RoleExaminer, VenueID: &venue},
		{Username: "li.desk", Password: "secret-pw-2", Role: auth.RoleIssuer, Desk: "3号窗口"},
	} {
		if _, err := s.CreateUser(ctx, u, admin); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := auth.InsertUser(ctx, db, auth.NewUser{Username: "11010119900101001X", Role: auth.RoleCandidate}, "x"); err != nil {
		t.Fatal(err)
	}

	got, err := s.StaffUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range got {
		names = append(names, u.Username)
	}
	if want := "admin li.desk zhang.examiner"; strings.Join(names, " ") != want {
		t.Fatalf("got %v, want %s", names, want)
	}
	if u := got[2]; u.Role != auth.RoleExaminer || u.VenueID == nil || *u.VenueID != venue || u.CreatedAt.IsZero() {
		t.Errorf("examiner: %+v", u)
	}
	if u := got[1]; u.Desk != "3号窗口" || u.VenueID != nil {
		t.Errorf("issuer: %+v", u)
	}
}

// TestValidUser: the checks POST /users and the admin's page share, each
// refusal naming its field.
func TestValidUser(t *testing.T) {
	long := strings.Repeat("密", 65)
	for name, tc := range map[string]struct {
		username, password, role string
		venue                    *int64
		field                    string
	}{
		"OK":            {"wang", "12345678", auth.RoleIssuer, nil, ""},
		"NoUsername":    {"  ", "12345678", auth.RoleIssuer, nil, "username"},
		"Space":         {"wang xm", "12345678", auth.RoleIssuer, nil, "username"},
		"LongUsername":  {long, "12345678", auth.RoleIssuer, nil, "username"},
		"NULUsername":   {"wang\x00", "12345678", auth.RoleIssuer, nil, "username"},
		"BadUTF8":       {"wang\xff", "12345678", auth.RoleIssuer, nil, "username"},
		"ShortPassword": {"wang", "1234567", auth.RoleIssuer, nil, "password"},
		"LongPassword":  {"wang", strings.Repeat("x", 73), auth.RoleIssuer, nil, "password"},
		"Candidate":     {"wang", "12345678", auth.RoleCandidate, nil, "role"},
		"BadVenue":      {"wang", "12345678", auth.RoleExaminer, ptr(int64(0)), "venue_id"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := auth.ValidUser(&tc.username, &tc.password, &tc.role, tc.venue, nil)
			var ae *refusal.Error
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.field != "" && (!errors.As(err, &ae) || ae.Field != tc.field):
				t.Errorf("got %v, want a refusal of %s", err, tc.field)
			}
		})
	}
}
