package issuance

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"examd/internal/refusal"
)

// NoteSize bounds a step's note, in characters.
const NoteSize = 200

// CheckItem is a document the desk checks at 预受理.
type CheckItem struct {
	Code, TextZh, TextEn string
}

// AcceptChecklist is what 预受理 checks, every item of it (IS-STEPS): the
// candidate's ID card, photo and medical certificate.
var AcceptChecklist = []CheckItem{
	{Code: "id_card", TextZh: "身份证", TextEn: "ID card"},
	{Code: "photo", TextZh: "照片", TextEn: "photo"},
	{Code: "medical", TextZh: "体检证明", TextEn: "medical certificate"},
}

// Payment methods of the fee at 审核缴费.
const (
	PaymentCash   = "cash"   // 现金
	PaymentCard   = "card"   // 银行卡
	PaymentMobile = "mobile" // 微信、支付宝
)

// PaymentMethods are the payment methods, in the order the desk offers them.
var PaymentMethods = []string{PaymentCash, PaymentCard, PaymentMobile}

// receiptNumber is the shape of a fee receipt's number (the schema's CHECK).
var receiptNumber = regexp.MustCompile(`^[A-Za-z0-9-]{1,32}$`)

// StepInput is what the desk records with a step besides who and when: the
// checklist of 预受理, the payment of 审核缴费, and a note for any step.
type StepInput struct {
	Note string
	// Checklist holds the codes of AcceptChecklist's items checked
	// (StepAccept only).
	Checklist []string
	// PaymentMethod and ReceiptNumber are the fee's payment (StepReviewFee
	// only).
	PaymentMethod, ReceiptNumber string
}

// Missing returns the items of AcceptChecklist not in the checklist, in
// the checklist's order.
func (in StepInput) Missing() []CheckItem {
	var out []CheckItem
	for _, it := range AcceptChecklist {
		if !slices.Contains(in.Checklist, it.Code) {
			out = append(out, it)
		}
	}
	return out
}

// ErrChecklistIncomplete refuses 预受理 with items of its checklist not
// checked; a refusal built by checklistRefusal names them.
var ErrChecklistIncomplete = refusal.New("checklist_incomplete", "预受理须核验身份证、照片、体检证明，三项均须勾选")

// checklistRefusal is ErrChecklistIncomplete naming the items missing, all
// of them at once.
func checklistRefusal(missing []CheckItem) *refusal.Error {
	names := make([]string, len(missing))
	for i, m := range missing {
		names[i] = m.TextZh
	}
	return &refusal.Error{Code: ErrChecklistIncomplete.Code, Field: "checklist",
		Message: "预受理须核验身份证、照片、体检证明，未勾选：" + strings.Join(names, "、")}
}

// Validate checks what the step records, every field at once
// (refusal.List, in the order of the desk's form): the note's length, at
// StepAccept every item of the checklist checked (ErrChecklistIncomplete,
// naming every item missing), at StepReviewFee a payment method and a
// receipt number; a checklist or payment given with another step is refused
// rather than dropped. It trims the receipt number.
func (in *StepInput) Validate(step string) error {
	var bad refusal.List
	for _, c := range in.Checklist {
		if !slices.ContainsFunc(AcceptChecklist, func(it CheckItem) bool { return it.Code == c }) {
			bad = append(bad, refusal.Invalid("checklist", "items among id_card, photo, medical"))
			break
		}
	}
	switch {
	case step == StepAccept:
		if m := in.Missing(); len(m) > 0 && len(bad) == 0 {
			bad = append(bad, checklistRefusal(m))
		}
	case len(in.Checklist) > 0 && len(bad) == 0:
		bad = append(bad, refusal.Invalid("checklist", "only with the step accept (预受理)"))
	}
	in.ReceiptNumber = strings.TrimSpace(in.ReceiptNumber)
	if step == StepReviewFee {
		if !slices.Contains(PaymentMethods, in.PaymentMethod) {
			bad = append(bad, refusal.Invalid("payment_method", "one of cash (现金), card (银行卡), mobile (微信、支付宝)"))
		}
		if !receiptNumber.MatchString(in.ReceiptNumber) {
			bad = append(bad, refusal.Invalid("receipt_number", "the fee receipt's number: 1 to 32 letters, digits or hyphens"))
		}
	} else {
		if in.PaymentMethod != "" {
			bad = append(bad, refusal.Invalid("payment_method", "only with the step review_fee (审核缴费)"))
		}
		if in.ReceiptNumber != "" {
			bad = append(bad, refusal.Invalid("receipt_number", "only with the step review_fee (审核缴费)"))
		}
	}
	if !utf8.ValidString(in.Note) || strings.ContainsRune(in.Note, 0) || utf8.RuneCountInString(in.Note) > NoteSize {
		bad = append(bad, refusal.Invalid("note", "at most 200 characters of text"))
	}
	return bad.Err()
}
