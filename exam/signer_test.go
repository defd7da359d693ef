package exam_test

import (
	"errors"
	"reflect"
	"testing"

	"examd/exam"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// TestNewSignRequest: who may sign a score sheet, and as whom (ED-SIGN), the
// same for the API and the examiner's page.
func TestNewSignRequest(t *testing.T) {
	venue := int64(3)
	examiner := auth.Principal{UserID: 5, Role: auth.RoleExaminer, VenueID: &venue}
	for _, tc := range []struct {
		name   string
		p      auth.Principal
		signer string
		want   exam.SignRequest
		err    error // nil, or the refusal
		field  bool  // a field error on signer
	}{
		{"Examiner", examiner, "examiner", exam.SignRequest{AttemptID: 9, Signer: "examiner", By: 5, VenueID: 3}, nil, false},
		{"InPerson", examiner, "candidate", exam.SignRequest{AttemptID: 9, Signer: "candidate", By: 5, VenueID: 3}, nil, false},
		{"Candidate", auth.Principal{UserID: 7, Role: auth.RoleCandidate}, "candidate",
			exam.SignRequest{AttemptID: 9, Signer: "candidate", By: 7, Owner: 7}, nil, false},
		{"CandidateAsExaminer", auth.Principal{UserID: 7, Role: auth.RoleCandidate}, "examiner", exam.SignRequest{}, exam.ErrNotSigner, false},
		{"Scheduler", auth.Principal{UserID: 2, Role: auth.RoleScheduler}, "examiner", exam.SignRequest{}, exam.ErrNotSigner, false},
		{"Admin", auth.Principal{UserID: 1, Role: auth.RoleAdmin, VenueID: &venue}, "examiner", exam.SignRequest{}, exam.ErrNotSigner, false},
		{"NoVenue", auth.Principal{UserID: 6, Role: auth.RoleExaminer}, "examiner", exam.SignRequest{}, exam.ErrSignerNoVenue, false},
		{"BadSigner", examiner, "witness", exam.SignRequest{}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := exam.NewSignRequest(tc.p, 9, tc.signer)
			switch {
			case tc.field:
				if !errors.Is(err, refusal.Invalid("signer", "")) {
					t.Errorf("got %v, want a field error on signer", err)
				}
			case tc.err != nil:
				if err != tc.err { // the very refusal: both are "forbidden"
					t.Errorf("got %v, want %v", err, tc.err)
				}
			case err != nil || !reflect.DeepEqual(got, tc.want):
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
