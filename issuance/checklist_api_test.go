package issuance_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"examd/internal/server/servertest"
)

// TestStepChecklists: 预受理 is refused unless its checklist holds all
// three documents, naming every one missing at once; 审核缴费 is refused
// without a payment method and a receipt number; neither refusal changes
// the step, and what a step accepted is stored with it for the receipts.
func TestStepChecklists(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	c := h.Ready(t)
	step := func(body map[string]any) (int, string, string, string) {
		t.Helper()
		r := h.A.Do("POST", fmt.Sprintf("/api/v1/issuance/%d/steps", c.ID), h.Issuer, body)
		msg := ""
		if e, ok := r.Body["error"].(map[string]any); ok {
			msg, _ = e["message"].(string)
		}
		return r.Status, r.Code(), r.Field(), msg
	}
	stepNow := func() string {
		t.Helper()
		var s string
		if err := a.DB.Get(&s, `SELECT step FROM issuances WHERE candidate_id = $1`, c.ID); err != nil {
			t.Fatal(err)
		}
		return s
	}

	for _, tt := range []struct {
		name      string
		body      map[string]any
		code      string
		field     string
		mentions  []string
		mentionsN []string // must not be named
	}{
		{"NoChecklist", map[string]any{"step": "accept"}, "checklist_incomplete", "checklist",
			[]string{"身份证", "照片", "体检证明"}, nil},
		{"EmptyChecklist", map[string]any{"step": "accept", "checklist": []string{}}, "checklist_incomplete", "checklist",
			[]string{"身份证", "照片", "体检证明"}, nil},
		{"TwoOfThree", map[string]any{"step": "accept", "checklist": []string{"id_card", "medical"}}, "checklist_incomplete", "checklist",
			[]string{"未勾选：照片"}, []string{"体检证明"}},
		{"UnknownItem", map[string]any{"step": "accept", "checklist": []string{"id_card", "photo", "medical", "passport"}}, "invalid_field", "checklist", nil, nil},
		{"PaymentWithAccept", map[string]any{"step": "accept", "checklist": []string{"id_card", "photo", "medical"}, "payment_method": "cash"}, "invalid_field", "payment_method", nil, nil},
		{"ChecklistNotAList", map[string]any{"step": "accept", "checklist": "id_card"}, "invalid_field", "checklist", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, code, field, msg := step(tt.body)
			if status != http.StatusUnprocessableEntity || code != tt.code || field != tt.field {
				t.Fatalf("got %d %s (%s) %q, want 422 %s (%s)", status, code, field, msg, tt.code, tt.field)
			}
			// The missing items are named after the colon: the rule's
			// own text names all three.
			missing := msg[strings.LastIndex(msg, "：")+1:]
			for _, m := range tt.mentions {
				if !strings.Contains(msg, m) {
					t.Errorf("message %q does not name %s", msg, m)
				}
			}
			for _, m := range tt.mentionsN {
				if strings.Contains(missing, m) {
					t.Errorf("message %q names %s, which was ticked", msg, m)
				}
			}
			if s := stepNow(); s != "ready" {
				t.Errorf("step %s after a refusal, want ready", s)
			}
		})
	}

	if status, code, _, msg := step(map[string]any{"step": "accept", "checklist": []string{"medical", "id_card", "photo"}}); status != 200 {
		t.Fatalf("accept with every item: %d %s %s", status, code, msg)
	}

	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"NoPayment", map[string]any{"step": "review_fee"}, "payment_method"},
		{"UnknownMethod", map[string]any{"step": "review_fee", "payment_method": "cheque", "receipt_number": "R-1"}, "payment_method"},
		{"NoReceipt", map[string]any{"step": "review_fee", "payment_method": "card"}, "receipt_number"},
		{"BlankReceipt", map[string]any{"step": "review_fee", "payment_method": "card", "receipt_number": "  "}, "receipt_number"},
		{"ReceiptTooLong", map[string]any{"step": "review_fee", "payment_method": "card", "receipt_number": strings.Repeat("9", 33)}, "receipt_number"},
		{"ReceiptNotText", map[string]any{"step": "review_fee", "payment_method": "card", "receipt_number": "R 1;"}, "receipt_number"},
		{"ChecklistWithReview", map[string]any{"step": "review_fee", "payment_method": "card", "receipt_number": "R-1", "checklist": []string{"id_card"}}, "checklist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, code, field, msg := step(tt.body)
			if status != http.StatusUnprocessableEntity || code != "invalid_field" || field != tt.field {
				t.Fatalf("got %d %s (%s) %q, want 422 invalid_field (%s)", status, code, field, msg, tt.field)
			}
			if s := stepNow(); s != "accepted" {
				t.Errorf("step %s after a refusal, want accepted", s)
			}
		})
	}

	r := h.A.Do("POST", fmt.Sprintf("/api/v1/issuance/%d/steps", c.ID), h.Issuer,
		map[string]any{"step": "review_fee", "payment_method": "mobile", "receipt_number": " WX-20250601-7 "})
	if r.Status != 200 || r.Body["payment_method"] != "mobile" || r.Body["receipt_number"] != "WX-20250601-7" || r.Body["fee_yuan"] != 10.0 {
		t.Fatalf("review_fee: %d %s", r.Status, r.Raw)
	}
	var stored struct {
		Checklist string `db:"checklist"`
		Method    string `db:"payment_method"`
		Receipt   string `db:"receipt_number"`
	}
	if err := a.DB.Get(&stored, `SELECT array_to_string(accepted_checklist, ',') AS checklist, payment_method, receipt_number
		FROM issuances WHERE candidate_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if stored.Checklist != "medical,id_card,photo" || stored.Method != "mobile" || stored.Receipt != "WX-20250601-7" {
		t.Errorf("stored %+v", stored)
	}
	// The print step takes neither.
	if status, code, field, _ := step(map[string]any{"step": "print", "receipt_number": "R-2"}); status != 422 || code != "invalid_field" || field != "receipt_number" {
		t.Errorf("print with a receipt number: %d %s %s", status, code, field)
	}
	if status, _, _, msg := step(map[string]any{"step": "print"}); status != 200 {
		t.Errorf("print: %d %s", status, msg)
	}
}
