package exam_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"examd/exam"
	"examd/internal/pg/pgtest"
	"examd/internal/refusal"
)

// TestDevices: the admin's list shows every device with when it was
// registered and retired, the active ones first, and never a key.
func TestDevices(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := context.Background()
	s := exam.NewStore(db, nil, nil, nil)
	var v1, v2, admin int64
	if err := db.Get(&v1, `INSERT INTO venues (name) VALUES ('第一考场') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&v2, `INSERT INTO venues (name) VALUES ('第二考场') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&admin, `INSERT INTO users (username, password_hash, role) VALUES ('admin', 'x', 'admin') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	create := func(venue int64, name string) (exam.Device, string) {
		t.Helper()
		d, key, err := s.CreateDevice(ctx, exam.Device{VenueID: venue, Name: name, VehiclePlate: "京A1234学",
			Subjects: pq.Int64Array{2}, LicenceClasses: pq.StringArray{"C1"}}, admin)
		if err != nil {
			t.Fatal(err)
		}
		return d, key
	}
	old, oldKey := create(v1, "考试车 1号")
	create(v2, "考试车 2号")
	create(v1, "  考试车 3号 ")
	retiredAt := time.Date(2030, 5, 1, 8, 0, 0, 0, time.UTC)
	if err := s.RetireDevice(ctx, old.ID, admin, retiredAt); err != nil {
		t.Fatal(err)
	}

	got, err := s.Devices(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range got {
		names = append(names, d.Name)
	}
	if want := "考试车 3号,考试车 2号,考试车 1号"; strings.Join(names, ",") != want {
		t.Fatalf("got %v, want %s", names, want)
	}
	if one, err := s.Devices(ctx, v2); err != nil || len(one) != 1 || one[0].Name != "考试车 2号" {
		t.Errorf("the devices of venue %d: %v, %v", v2, one, err)
	}
	if d := got[2]; d.RetiredAt == nil || !d.RetiredAt.Equal(retiredAt) || d.VenueID != v1 {
		t.Errorf("retired device: %+v", d)
	}
	if d := got[0]; d.RetiredAt != nil || d.CreatedAt.IsZero() || d.VehiclePlate != "京A1234学" || len(d.LicenceClasses) != 1 {
		t.Errorf("active device: %+v", d)
	}
	if _, err := s.DeviceByKey(ctx, oldKey); !errors.Is(err, refusal.ErrNotFound) {
		t.Errorf("a retired device's key: %v, want refusal.ErrNotFound", err)
	}
}

// TestDeviceValidate: the checks POST /devices and the admin's page share.
func TestDeviceValidate(t *testing.T) {
	ok := exam.Device{VenueID: 1, Name: "考试车 1号", VehiclePlate: "京A1234学", Subjects: pq.Int64Array{2, 3}, LicenceClasses: pq.StringArray{"C1", "C2"}}
	for name, tc := range map[string]struct {
		change func(*exam.Device)
		field  string
	}{
		"OK":         {func(*exam.Device) {}, ""},
		"NoVenue":    {func(d *exam.Device) { d.VenueID = 0 }, "venue_id"},
		"BlankName":  {func(d *exam.Device) { d.Name = "  " }, "name"},
		"LongName":   {func(d *exam.Device) { d.Name = strings.Repeat("车", 34) }, "name"},
		"NULName":    {func(d *exam.Device) { d.Name = "a\x00b" }, "name"},
		"LongPlate":  {func(d *exam.Device) { d.VehiclePlate = strings.Repeat("A", 21) }, "vehicle_plate"},
		"EmptyClass": {func(d *exam.Device) { d.LicenceClasses = pq.StringArray{""} }, "licence_classes"},
		"LongClass":  {func(d *exam.Device) { d.LicenceClasses = pq.StringArray{"C1C2C3C4C5"} }, "licence_classes"},
		"NoClass":    {func(d *exam.Device) { d.LicenceClasses = nil }, "licence_classes"},
		// Subjects: 2, 3 or both for a car, 4 alone for a theory terminal.
		"Subject2":       {func(d *exam.Device) { d.Subjects = pq.Int64Array{2} }, ""},
		"Subject3":       {func(d *exam.Device) { d.Subjects = pq.Int64Array{3} }, ""},
		"Subjects3And2":  {func(d *exam.Device) { d.Subjects = pq.Int64Array{3, 2} }, ""},
		"TheoryTerminal": {func(d *exam.Device) { d.Subjects = pq.Int64Array{4} }, ""},
		"NoSubjects":     {func(d *exam.Device) { d.Subjects = nil }, "subjects"},
		"EmptySubjects":  {func(d *exam.Device) { d.Subjects = pq.Int64Array{} }, "subjects"},
		"Subject1":       {func(d *exam.Device) { d.Subjects = pq.Int64Array{1} }, "subjects"},
		"Subject5":       {func(d *exam.Device) { d.Subjects = pq.Int64Array{2, 5} }, "subjects"},
		"TwiceSubject2":  {func(d *exam.Device) { d.Subjects = pq.Int64Array{2, 2} }, "subjects"},
		"TheoryAndRoad":  {func(d *exam.Device) { d.Subjects = pq.Int64Array{3, 4} }, "subjects"},
		"AllThree":       {func(d *exam.Device) { d.Subjects = pq.Int64Array{2, 3, 4} }, "subjects"},
		"TwiceTheory":    {func(d *exam.Device) { d.Subjects = pq.Int64Array{4, 4} }, "subjects"},
	} {
		t.Run(name, func(t *testing.T) {
			d := ok
			tc.change(&d)
			err := d.Validate()
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tc.field != "" && !errors.Is(err, refusal.Invalid(tc.field, "")):
				t.Errorf("got %v, want a refusal of %s", err, tc.field)
			}
		})
	}
}
