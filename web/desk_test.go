package web

import (
	"testing"

	"examd/issuance"
)

// TestDeskCatalogue: both languages hold the keys the desk's pages build.
func TestDeskCatalogue(t *testing.T) {
	cats, err := loadCatalogues(files)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"dayreport.day_invalid", "desk.refusal.issued"}
	for _, step := range []string{issuance.StepAccept, issuance.StepPrint} {
		keys = append(keys, "desk.step_"+step)
	}
	for _, step := range []string{issuance.StepAccept, issuance.StepReviewFee, issuance.StepPrint} {
		keys = append(keys, "flash.desk_"+step)
	}
	keys = append(keys, "flash.desk_called")
	called := "3号窗口"
	for _, st := range []string{issuance.StateReady, issuance.StateAccepted, issuance.StateReviewed, issuance.StateIssued} {
		keys = append(keys, deskRow{QueueItem: issuance.QueueItem{Step: st}}.StepKey(),
			deskRow{QueueItem: issuance.QueueItem{Step: st, CalledDesk: &called}}.StepKey())
	}
	for _, lang := range languages {
		for _, k := range keys {
			if cats[lang][k] == "" {
				t.Errorf("%s: no text for %s", lang, k)
			}
		}
	}
}

// TestDeskNext: each state offers the step after it (IS-STEPS), none once
// issued.
func TestDeskNext(t *testing.T) {
	for state, want := range map[string]string{
		issuance.StateReady: issuance.StepAccept, issuance.StateAccepted: issuance.StepReviewFee,
		issuance.StateReviewed: issuance.StepPrint, issuance.StateIssued: "",
	} {
		if got := (deskRow{QueueItem: issuance.QueueItem{Step: state}}).Next(); got != want {
			t.Errorf("%s: next %q, want %q", state, got, want)
		}
		if !issuance.IsStep(want) && want != "" {
			t.Errorf("%s: %q is no step of the desk", state, want)
		}
	}
}
