package issuance_test

import (
	"errors"
	"fmt"
	"testing"

	"examd/internal/refusal"
	"examd/issuance"
)

// TestRowApply: the desk's state machine (IS-STEPS, IS-READY), every action
// from every state, without a database.
func TestRowApply(t *testing.T) {
	desk := func(s string) *string { return &s }
	queued := func(step string) issuance.Row {
		return issuance.Row{Queued: true, Ready: true, Step: step}
	}
	by := issuance.Staff{UserID: 7, Desk: "3号窗口"}
	tests := []struct {
		name   string
		row    issuance.Row
		action string
		by     issuance.Staff
		want   issuance.Row     // the row as the action leaves it
		eff    issuance.Effects // its effects
		err    error            // a refusal: the row stays as it was
	}{
		{name: "CallReady", row: queued("ready"), action: "call", by: by,
			want: issuance.Row{Queued: true, Ready: true, Step: "ready", CalledDesk: desk("3号窗口")},
			eff:  issuance.Effects{Event: "call"}},
		{name: "CallAgainAnotherDesk", row: issuance.Row{Queued: true, Ready: true, Step: "ready", CalledDesk: desk("1号窗口")},
			action: "call", by: by,
			want: issuance.Row{Queued: true, Ready: true, Step: "ready", CalledDesk: desk("3号窗口")},
			eff:  issuance.Effects{Event: "call"}},
		{name: "CallWithoutDesk", row: issuance.Row{Queued: true, Ready: true, Step: "ready", CalledDesk: desk("1号窗口")},
			action: "call", by: issuance.Staff{UserID: 7},
			want: queued("ready"), eff: issuance.Effects{Event: "call"}},
		{name: "CallAccepted", row: queued("accepted"), action: "call", by: by,
			want: issuance.Row{Queued: true, Ready: true, Step: "accepted", CalledDesk: desk("3号窗口")},
			eff:  issuance.Effects{Event: "call"}},
		{name: "CallReviewed", row: queued("reviewed"), action: "call", by: by,
			want: issuance.Row{Queued: true, Ready: true, Step: "reviewed", CalledDesk: desk("3号窗口")},
			eff:  issuance.Effects{Event: "call"}},
		{name: "CallIgnoresReadiness", row: issuance.Row{Queued: true, Step: "ready"}, action: "call", by: by,
			want: issuance.Row{Queued: true, Step: "ready", CalledDesk: desk("3号窗口")},
			eff:  issuance.Effects{Event: "call"}},
		{name: "CallIssued", row: queued("issued"), action: "call", by: by, err: issuance.ErrInvalidStep},
		{name: "CallNotQueued", row: issuance.Row{Ready: true}, action: "call", by: by, err: issuance.ErrNotReady},

		{name: "Accept", row: queued("ready"), action: "accept", by: by,
			want: queued("accepted"), eff: issuance.Effects{Audit: "issuance.accept", Event: "step"}},
		{name: "AcceptKeepsCall", row: issuance.Row{Queued: true, Ready: true, Step: "ready", CalledDesk: desk("1号窗口")},
			action: "accept", by: by,
			want: issuance.Row{Queued: true, Ready: true, Step: "accepted", CalledDesk: desk("1号窗口")},
			eff:  issuance.Effects{Audit: "issuance.accept", Event: "step"}},
		{name: "AcceptTwice", row: queued("accepted"), action: "accept", by: by, err: issuance.ErrInvalidStep},
		{name: "AcceptReviewed", row: queued("reviewed"), action: "accept", by: by, err: issuance.ErrInvalidStep},
		{name: "AcceptIssued", row: queued("issued"), action: "accept", by: by, err: issuance.ErrInvalidStep},
		{name: "AcceptNotReadyAnyMore", row: issuance.Row{Queued: true, Step: "ready"}, action: "accept", by: by, err: issuance.ErrNotReady},
		{name: "AcceptNotQueued", row: issuance.Row{Ready: true}, action: "accept", by: by, err: issuance.ErrNotReady},

		{name: "ReviewFee", row: queued("accepted"), action: "review_fee", by: by,
			want: queued("reviewed"), eff: issuance.Effects{Audit: "issuance.review_fee", Event: "step"}},
		{name: "ReviewFeeBeforeAccept", row: queued("ready"), action: "review_fee", by: by, err: issuance.ErrInvalidStep},
		{name: "ReviewFeeTwice", row: queued("reviewed"), action: "review_fee", by: by, err: issuance.ErrInvalidStep},
		{name: "ReviewFeeIssued", row: queued("issued"), action: "review_fee", by: by, err: issuance.ErrInvalidStep},
		{name: "ReviewFeeNotReadyAnyMore", row: issuance.Row{Queued: true, Step: "accepted"}, action: "review_fee", by: by, err: issuance.ErrNotReady},

		{name: "Print", row: queued("reviewed"), action: "print", by: by,
			want: queued("issued"), eff: issuance.Effects{Audit: "issuance.print", Event: "issued"}},
		{name: "PrintReady", row: queued("ready"), action: "print", by: by, err: issuance.ErrInvalidStep},
		{name: "PrintAccepted", row: queued("accepted"), action: "print", by: by, err: issuance.ErrInvalidStep},
		{name: "PrintTwice", row: queued("issued"), action: "print", by: by, err: issuance.ErrInvalidStep},
		// IS-READY first: a correction undid the readiness of a candidate
		// whose licence is issued (it stays issued); a step is refused as
		// not ready, not as out of order.
		{name: "PrintNotReadyAnyMore", row: issuance.Row{Queued: true, Step: "reviewed"}, action: "print", by: by, err: issuance.ErrNotReady},
		{name: "StepAfterIssueNotReady", row: issuance.Row{Queued: true, Step: "issued"}, action: "print", by: by, err: issuance.ErrNotReady},
		{name: "PrintNotQueued", row: issuance.Row{}, action: "print", by: by, err: issuance.ErrNotReady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, eff, err := tt.row.Apply(tt.action, tt.by)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("got error %v, want %v", err, tt.err)
				}
				if !sameRow(got, tt.row) || eff != (issuance.Effects{}) {
					t.Errorf("refused, got row %+v and %+v, want the row unchanged %+v and no effects", got, eff, tt.row)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if !sameRow(got, tt.want) {
				t.Errorf("got row %s, want %s", show(got), show(tt.want))
			}
			if eff != tt.eff {
				t.Errorf("got effects %+v, want %+v", eff, tt.eff)
			}
		})
	}

	t.Run("UnknownAction", func(t *testing.T) {
		_, _, err := queued("ready").Apply("sign", by)
		if _, coded := refusal.As(err); err == nil || coded {
			t.Errorf("got %v, want an internal error (the handlers check IsStep)", err)
		}
	})
	t.Run("CallDeskIsACopy", func(t *testing.T) {
		s := issuance.Staff{Desk: "2号窗口"}
		got, _, err := queued("ready").Apply("call", s)
		if err != nil {
			t.Fatal(err)
		}
		s.Desk = "9号窗口"
		if *got.CalledDesk != "2号窗口" {
			t.Errorf("called desk %q follows the staff value", *got.CalledDesk)
		}
	})
}

// TestIsStep: the desk's steps are accept, review_fee and print; a call is
// not a step.
func TestIsStep(t *testing.T) {
	for _, tt := range []struct {
		name, step string
		want       bool
	}{
		{"Accept", "accept", true}, {"ReviewFee", "review_fee", true}, {"Print", "print", true},
		{"Call", "call", false}, {"Empty", "", false}, {"State", "issued", false}, {"UpperCase", "PRINT", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := issuance.IsStep(tt.step); got != tt.want {
				t.Errorf("IsStep(%q) = %v, want %v", tt.step, got, tt.want)
			}
		})
	}
}

func sameRow(a, b issuance.Row) bool {
	if (a.CalledDesk == nil) != (b.CalledDesk == nil) || a.CalledDesk != nil && *a.CalledDesk != *b.CalledDesk {
		return false
	}
	a.CalledDesk, b.CalledDesk = nil, nil
	return a == b
}

func show(r issuance.Row) string {
	desk := "<nil>"
	if r.CalledDesk != nil {
		desk = *r.CalledDesk
	}
	return fmt.Sprintf("{Queued:%v Ready:%v Step:%s CalledDesk:%s}", r.Queued, r.Ready, r.Step, desk)
}
