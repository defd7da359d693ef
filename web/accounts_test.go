package web

import "testing"

// TestAccountsCatalogue: both languages hold the keys the account pages
// build: each refusal's field, each known audit action, the flashes.
func TestAccountsCatalogue(t *testing.T) {
	cats, err := loadCatalogues(files)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"flash.user_created", "flash.device_retired", "users.err.venue_required",
		"devices.err.confirm", "devices.err.not_found", "audit.err.paging"}
	// The fields auth.ValidUser, exam.Device.Validate and audit.ParseFilter name.
	for _, f := range []string{"username", "password", "role", "venue_id", "desk"} {
		keys = append(keys, "users.err."+f)
	}
	for _, f := range []string{"venue_id", "name", "vehicle_plate", "licence_classes"} {
		keys = append(keys, "devices.err."+f)
	}
	for _, f := range []string{"action", "actor", "subject", "from", "to"} {
		keys = append(keys, "audit.err."+f)
	}
	for _, a := range auditActions {
		keys = append(keys, "audit.action."+a)
	}
	for _, lang := range languages {
		for _, k := range keys {
			if cats[lang][k] == "" {
				t.Errorf("%s: no text for %s", lang, k)
			}
		}
	}
}

// TestLicenceClasses: the device form's classes, however separated.
func TestLicenceClasses(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"c1":          "C1",
		"C1 C2":       "C1|C2",
		"C1,C2，c5、A1": "C1|C2|C5|A1",
		" C1 ,  C2 ":  "C1|C2",
	} {
		got := ""
		for i, c := range licenceClasses(in) {
			if i > 0 {
				got += "|"
			}
			got += c
		}
		if got != want {
			t.Errorf("licenceClasses(%q) = %q, want %q", in, got, want)
		}
	}
}
