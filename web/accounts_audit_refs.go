package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"examd/internal/audit"
	"examd/internal/refusal"
	"examd/scheduling"
)

// auditRef is an actor or a subject of the audit log as the page names it:
// by name and role where it has them, linked to its page where one exists.
type auditRef struct {
	// Name is its name; when empty the page shows the message Key with Arg.
	Name string
	Key  string
	Arg  int64
	// Role is the catalogue key of what it is (role.examiner, audit.device…),
	// empty for none.
	Role string
	// Href is its page, empty when it has none.
	Href string
}

// auditNames names the actors and subjects of a page of the log: the staff
// and devices (listed once for the actor filter), and the candidates looked
// up as they come, once each. Candidates' names are masked: the log names
// the account, and the link leads to the whole record.
type auditNames struct {
	ctx        context.Context
	scheduling *scheduling.Store
	staff      map[int64]auditRef
	devices    map[int64]string
	candidates map[int64]*auditRef // nil: not a candidate
}

// candidate is candidate id's reference, or nil when there is none.
func (n *auditNames) candidate(id int64) (*auditRef, error) {
	if r, ok := n.candidates[id]; ok {
		return r, nil
	}
	var r *auditRef
	c, err := n.scheduling.Candidate(n.ctx, id)
	switch {
	case errors.Is(err, refusal.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		r = &auditRef{Name: scheduling.MaskName(c.Name), Role: "role.candidate", Href: fmt.Sprintf("/admin/candidates/%d", id)}
	}
	n.candidates[id] = r
	return r, nil
}

// user is users.id = id: a staff user, else a candidate (a candidate's
// account shares its id), else the bare id.
func (n *auditNames) user(id int64) (auditRef, error) {
	if r, ok := n.staff[id]; ok {
		return r, nil
	}
	c, err := n.candidate(id)
	if err != nil || c != nil {
		return deref(c), err
	}
	return auditRef{Key: "audit.user_id", Arg: id}, nil
}

// deref is *r, or the zero reference for nil.
func deref(r *auditRef) auditRef {
	if r == nil {
		return auditRef{}
	}
	return *r
}

// device is devices.id = id, linked to its row of the devices page.
func (n *auditNames) device(id int64) auditRef {
	return auditRef{Name: n.devices[id], Key: "audit.device_id", Arg: id, Role: "audit.device", Href: fmt.Sprintf("/admin/devices#device-%d", id)}
}

// actor names who acted.
func (n *auditNames) actor(a audit.Actor) (auditRef, error) {
	switch a.Kind {
	case audit.KindUser:
		return n.user(a.ID)
	case audit.KindDevice:
		return n.device(a.ID), nil
	}
	return auditRef{Key: "audit.system"}, nil
}

// subjects names what an entry is about and links its pages: a booking
// both its candidate and its slot (read from the entry's state), an attempt
// its score sheet, a display its row of the displays page.
func (n *auditNames) subjects(r audit.Row) ([]auditRef, error) {
	kind, idText, _ := strings.Cut(r.Subject, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return nil, nil // a subject the page cannot name: shown as recorded
	}
	switch kind {
	case "user":
		u, err := n.user(id)
		return []auditRef{u}, err
	case "candidate":
		c, err := n.candidate(id)
		if c == nil {
			return nil, err
		}
		return []auditRef{*c}, err
	case "device":
		return []auditRef{n.device(id)}, nil
	case "display":
		return []auditRef{{Key: "audit.display_id", Arg: id, Href: fmt.Sprintf("/admin/displays#display-%d", id)}}, nil
	case "attempt":
		return []auditRef{{Key: "audit.attempt_id", Arg: id, Href: fmt.Sprintf("/examiner/attempts/%d", id)}}, nil
	case "slot":
		return []auditRef{slotRef(id)}, nil
	case "booking":
		return n.booking(r)
	}
	return nil, nil
}

// slotRef is slot id, linked to its roster.
func slotRef(id int64) auditRef {
	return auditRef{Key: "audit.slot_id", Arg: id, Href: fmt.Sprintf("/admin/slots/%d", id)}
}

// booking names a booking's candidate and slot as its recorded state
// (scheduling.Booking's JSON) gives them.
func (n *auditNames) booking(r audit.Row) ([]auditRef, error) {
	var b struct {
		CandidateID int64 `json:"candidate_id"`
		SlotID      int64 `json:"slot_id"`
	}
	for _, state := range []json.RawMessage{r.After, r.Before} {
		if len(state) > 0 && b.CandidateID == 0 {
			_ = json.Unmarshal(state, &b) // a state without them names nothing
		}
	}
	var refs []auditRef
	if b.CandidateID > 0 {
		c, err := n.candidate(b.CandidateID)
		if err != nil {
			return nil, err
		}
		if c != nil {
			refs = append(refs, *c)
		}
	}
	if b.SlotID > 0 {
		refs = append(refs, slotRef(b.SlotID))
	}
	return refs, nil
}
