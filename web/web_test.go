package web

import (
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"examd/internal/auth"
	"examd/scheduling"
)

// TestCatalogues: both languages hold every key the templates and the code
// use, and the Chinese refusals are the domain's own messages, word for word.
func TestCatalogues(t *testing.T) {
	cats, err := loadCatalogues(files)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	// Keys written out in the templates ({{t "key"}}) ...
	literal := regexp.MustCompile(`\bt "([a-z0-9_.]+)"`)
	pages, _ := fs.Glob(files, "templates/*.html")
	for _, p := range pages {
		b, _ := fs.ReadFile(files, p)
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	// ... and the keys the templates and handlers build.
	for _, role := range append(slices.Clone(auth.StaffRoles), auth.RoleCandidate) {
		keys = append(keys, "role."+role)
	}
	for _, s := range []string{scheduling.StatusConfirmed, scheduling.StatusCancelled, scheduling.StatusPassed, scheduling.StatusFailed, scheduling.StatusNoShow} {
		keys = append(keys, "status."+s)
	}
	for _, s := range []string{scheduling.SubjectNotYet, scheduling.SubjectBooked, scheduling.SubjectPassed, scheduling.SubjectFailed, scheduling.SubjectVoid} {
		keys = append(keys, "state."+s)
	}
	for _, s := range []string{"ready", "accepted", "reviewed", "issued"} {
		keys = append(keys, "desk."+s)
	}
	for _, r := range scheduling.PriorityReasons {
		keys = append(keys, "reason."+r)
	}
	for _, n := range scheduling.PriorityNeeds {
		keys = append(keys, "need."+n)
	}
	keys = append(keys, "subject.1", "subject.2", "subject.3", "subject.4", "subject.combined", "slots.all_subjects",
		"refusal.invalid", "refusal.not_found", "error.internal", "error.forbidden", "error.not_found",
		"error.too_large", "error.bad_request", "error.form_expired", "login.failed", "login.required",
		"flash.booked", "flash.cancelled", "flash.logged_out")
	for _, role := range append(slices.Clone(auth.StaffRoles), auth.RoleCandidate) {
		for _, n := range navFor(role, "") {
			keys = append(keys, n.Key)
		}
	}
	for _, lang := range languages {
		for _, k := range keys {
			if cats[lang][k] == "" {
				t.Errorf("%s: no text for %s", lang, k)
			}
		}
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", ""},
		{"zh-CN,zh;q=0.9,en;q=0.8", langZh},
		{"en-US,en;q=0.9", langEn},
		{"zh-TW", langZh},
		{"fr-FR, en;q=0.5, zh;q=0.8", langZh},
		{"fr, de", ""},
		{"en;q=0, zh;q=0.1", langZh},
		{"EN-gb", langEn},
		{"en;q=abc", ""},
		{"*", ""},
	} {
		if got := fromAcceptLanguage(tc.header); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.header, got, tc.want)
		}
	}
	if got := pickLanguage("en", "zh-CN"); got != langEn {
		t.Errorf("the cookie should win: %s", got)
	}
	if got := pickLanguage("xx", "de"); got != langZh {
		t.Errorf("default: %s", got)
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/candidate":             "/candidate",
		"/candidate/slots?x=1":   "/candidate/slots?x=1",
		"":                       "/",
		"//evil.example/x":       "/",
		"/\\evil.example":        "/",
		"https://evil.example/x": "/",
		"candidate":              "/",
		"javascript:alert(1)":    "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSlotQuery(t *testing.T) {
	q := parseSlotQuery(url.Values{"subject": {"23"}, "date": {"2026-12-01"}, "venue": {"7"}})
	if q != (slotQuery{Subject: "23", Date: "2026-12-01", Venue: 7}) || q.Singles() || !q.Pairs() {
		t.Errorf("got %+v", q)
	}
	q = parseSlotQuery(url.Values{"subject": {"5"}, "date": {"2026-02-30"}, "venue": {"-1"}})
	if q != (slotQuery{}) || !q.Singles() || !q.Pairs() {
		t.Errorf("invalid values kept: %+v", q)
	}
	if got := (slotQuery{Subject: "2", Venue: 3}).Encode(); got != "subject=2&venue=3" {
		t.Errorf("encode: %s", got)
	}
	f := slotQuery{Subject: "4", Date: "2026-12-01"}.filter("C1", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if f.Subject != 4 || f.LicenceClass != "C1" || f.From.Format(time.DateOnly) != "2026-12-01" || !f.To.Equal(f.From) {
		t.Errorf("filter %+v", f)
	}
}

// TestCombinedPairs: the page offers exactly the pairs BK-COMBINED accepts,
// at one venue, both taking bookings.
func TestCombinedPairs(t *testing.T) {
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, scheduling.Shanghai)
	at := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, scheduling.Shanghai) }
	slot := func(id int64, venue int64, subject, day, from, to int) scheduling.Slot {
		return scheduling.Slot{ID: id, VenueID: venue, Subject: subject, StartsAt: at(day, from), EndsAt: at(day, to),
			Capacity: 10, BookingOpensAt: now.Add(-time.Hour), BookingClosesAt: at(day, 0), ReserveReleaseAt: at(day, 0)}
	}
	closed := slot(9, 1, 3, 12, 13, 15)
	closed.BookingOpensAt = now.Add(time.Hour) // not open yet
	slots := []scheduling.Slot{
		slot(1, 1, 2, 10, 8, 10),
		slot(2, 1, 3, 10, 10, 12), // back to back with 1: valid
		slot(3, 1, 3, 10, 9, 11),  // starts before 1 ends
		slot(4, 2, 3, 10, 13, 15), // another venue
		slot(5, 1, 3, 11, 13, 15), // another day
		slot(6, 1, 2, 10, 13, 14), // ends before 7
		slot(7, 1, 3, 10, 14, 16),
		slot(8, 1, 2, 12, 8, 10),
		closed,
	}
	rows := slotRows(slots, map[int64]string{1: "一", 2: "二"}, map[int64]bool{}, nil, false, now)
	pairs, truncated := combinedPairs(slots, rows)
	var got []string
	for _, p := range pairs {
		got = append(got, p.Key)
	}
	want := []string{"pair-1-2", "pair-1-7", "pair-6-7"}
	if !slices.Equal(got, want) || truncated {
		t.Errorf("pairs %v (truncated %v), want %v", got, truncated, want)
	}
}
