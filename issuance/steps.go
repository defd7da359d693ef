package issuance

import "fmt"

// ActionCall calls the candidate's ticket to a desk (叫号). With the steps
// (StepAccept, StepReviewFee, StepPrint) it makes the desk's actions.
const ActionCall = "call"

// stepTo is the state each step leaves (IS-STEPS); previous, the state it
// starts from.
var (
	stepTo   = map[string]string{StepAccept: StateAccepted, StepReviewFee: StateReviewed, StepPrint: StateIssued}
	previous = map[string]string{StateAccepted: StateReady, StateReviewed: StateAccepted, StateIssued: StateReviewed}
)

// IsStep reports whether step is one of the desk's steps.
func IsStep(step string) bool {
	_, ok := stepTo[step]
	return ok
}

// Row is the candidate's place in the issuance queue, as the desk's state
// machine sees it. The store loads it with the queue row locked.
type Row struct {
	// Queued: the candidate has a ticket (they became ready and were not
	// withdrawn since).
	Queued bool
	// Step is StateReady, StateAccepted, StateReviewed or StateIssued.
	Step string
	// CalledDesk is the desk the ticket was last called to; nil before a
	// call, or when the caller had no desk.
	CalledDesk *string
	// Ready: IS-READY holds in the action's transaction (a correction may
	// have undone it since the ticket was handed out). The steps need it; a
	// call does not look at it.
	Ready bool
}

// Effects are what an action records besides the row.
type Effects struct {
	// Audit is the audit log's action; "" when the action is not audited
	// (a call).
	Audit string
	// Event is the type of the event appended to the feed.
	Event string
}

// Apply decides what the desk's action does to the row, for staff member
// by: the row as the action leaves it and its effects, or a refusal that
// changes nothing. A call may be repeated until the licence is issued; each
// step is done once, in order (IS-STEPS), for a candidate still ready
// (IS-READY). A candidate without a ticket is refused with ErrNotReady, an
// action out of order or repeated with ErrInvalidStep.
func (r Row) Apply(action string, by Staff) (Row, Effects, error) {
	next := r
	if action == ActionCall {
		switch {
		case !r.Queued:
			return r, Effects{}, ErrNotReady
		case r.Step == StateIssued:
			return r, Effects{}, ErrInvalidStep
		}
		next.CalledDesk = nil
		if by.Desk != "" {
			desk := by.Desk
			next.CalledDesk = &desk
		}
		return next, Effects{Event: EventCall}, nil
	}
	to, ok := stepTo[action]
	switch {
	case !ok:
		return r, Effects{}, fmt.Errorf("issuance: unknown action %q", action)
	case !r.Ready || !r.Queued:
		return r, Effects{}, ErrNotReady
	case r.Step != previous[to]:
		return r, Effects{}, ErrInvalidStep
	}
	next.Step = to
	eff := Effects{Audit: "issuance." + action, Event: EventStep}
	if to == StateIssued {
		eff.Event = EventIssued
	}
	return next, eff, nil
}
