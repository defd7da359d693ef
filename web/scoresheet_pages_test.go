package web_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"examd/internal/server/servertest"
)

// drawnPNG is a small drawing as a canvas gives it: a PNG data URL.
func drawnPNG(t *testing.T) (dataURL string, raw []byte) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 60, 20))
	for x := 5; x < 55; x++ {
		img.SetGray(x, 10, color.Gray{Y: 200})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), buf.Bytes()
}

// TestWebScoreSheet: ED-SIGN on the examiner's tablet. The score sheet shows
// the candidate masked, subject, class, attempt, n/5, every deduction with
// its rule text and points, the score against the pass mark, the result and
// the catalogue version; the examiner signs after confirming; the candidate
// then confirms having read the result and signs with a drawing, which the
// sheet shows; a correction stands next to the original and is signed anew.
func TestWebScoreSheet(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	_, booking := h.Book(t, h.Slot, 2)
	a.DB.MustExec(`UPDATE candidates SET name = '欧阳<b>娜娜</b>' WHERE id = (SELECT candidate_id FROM bookings WHERE id = $1)`, booking)
	var idNumber string
	if err := a.DB.Get(&idNumber, `SELECT c.id_number FROM candidates c JOIN bookings b ON b.candidate_id = c.id WHERE b.id = $1`, booking); err != nil {
		t.Fatal(err)
	}
	h.Post(h.Judge, booking, "exam_started", nil)
	h.Post(h.Judge, booking, "item_started", map[string]any{"item": "reverse_parking"})
	h.Post(h.Judge, booking, "deduction", map[string]any{"rule": "RP.STOP"})
	h.Post(h.Judge, booking, "deduction", map[string]any{"rule": "RP.STOP"})
	r := h.Post(h.Judge, booking, "exam_finished", nil)
	attempt := int64(servertest.AttemptOf(r)["id"].(float64))
	sheet := fmt.Sprintf("/examiner/attempts/%d", attempt)
	sign := sheet + "/sign"

	b := newBrowser(a, t)
	b.logIn(examinerAt(a, t, h.Venue), "staff-secret", "/examiner")
	p := b.get(sheet)
	if p.Status != http.StatusOK {
		t.Fatalf("score sheet: %d\n%s", p.Status, p.Body)
	}
	for _, want := range []string{
		"欧**********", "科目二", "C1", "本次预约第 1 次考试", `id="sheet-count">1/5<`, "倒车入库", "中途停车超过2秒", "扣 5 分",
		`<strong class="points">90</strong> 分 / 合格线 80 分`, "考试结果： 合格", "第 1 版", "第一步：考试员签字", `id="sign-as-examiner"`,
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("score sheet lacks %q", want)
		}
	}
	if n := strings.Count(p.Body, "中途停车超过2秒"); n != 2 {
		t.Errorf("the sheet lists %d deductions RP.STOP, want 2", n)
	}
	for _, leak := range []string{"欧阳", "娜娜", "<b>", idNumber} {
		if strings.Contains(p.Body, leak) {
			t.Errorf("score sheet shows %q", leak)
		}
	}
	if strings.Contains(p.Body, `id="sign-candidate"`) {
		t.Errorf("the candidate is asked to sign before the examiner")
	}

	// The examiner: a confirmation step, then what was signed.
	p = b.get(sheet + "?step=examiner")
	if !strings.Contains(p.Body, "请确认，您将以考试员身份签署以下成绩") || !strings.Contains(p.Body, "欧********** · 科目二 · 合格 · 90 分") || !strings.Contains(p.Body, `id="confirm-examiner"`) {
		t.Errorf("the confirmation step:\n%s", p.Body)
	}
	p = b.post(sign, url.Values{"signer": {"examiner"}, "confirm": {"yes"}})
	if p.URL != sheet+"?signed=examiner" || !strings.Contains(p.Body, "考试员已签字确认以下成绩") || !strings.Contains(p.Body, "欧********** · 科目二 · 合格 · 90 分") {
		t.Errorf("after the examiner signed: %d at %s", p.Status, p.URL)
	}
	if strings.Contains(p.Body, `id="sign-examiner"`) || !strings.Contains(p.Body, `id="sign-candidate"`) || !strings.Contains(p.Body, "请考生本人阅读以上成绩") ||
		!strings.Contains(p.Body, `<canvas id="signature-pad"`) || !strings.Contains(p.Body, "/static/signature.js") {
		t.Errorf("the candidate's step is not offered:\n%s", p.Body)
	}

	// The candidate: confirmation and a drawing, both needed; a bad drawing
	// is refused; nothing is signed until both are right.
	dataURL, raw := drawnPNG(t)
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"NotConfirmed", url.Values{"signer": {"candidate"}, "signature_png": {dataURL}}, "请考生勾选"},
		{"NotDrawn", url.Values{"signer": {"candidate"}, "confirm": {"yes"}}, "请考生在签名框内签名"},
		{"NotPNG", url.Values{"signer": {"candidate"}, "confirm": {"yes"}, "signature_png": {"data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("GIF89a not a png"))}}, "请考生在签名框内签名"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post(sign, tc.form)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, tc.want) || !strings.Contains(p.Body, `id="sign-refusal"`) {
				t.Errorf("got %d, want 422 saying %q\n%s", p.Status, tc.want, p.Body)
			}
		})
	}
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM attempt_signatures WHERE attempt_id = $1 AND signer = 'candidate'`, attempt); err != nil || n != 0 {
		t.Fatalf("%d candidate signatures after refusals (%v)", n, err)
	}
	p = b.post(sign, url.Values{"signer": {"candidate"}, "confirm": {"yes"}, "signature_png": {dataURL}})
	if p.URL != sheet+"?signed=candidate" || !strings.Contains(p.Body, "考生已签名确认以下成绩") || !strings.Contains(p.Body, "欧********** · 科目二 · 合格 · 90 分") {
		t.Errorf("after the candidate signed: %d at %s", p.Status, p.URL)
	}
	if !strings.Contains(p.Body, `<img class="drawn" src="`+strings.ReplaceAll(dataURL, "+", "&#43;")+`"`) || strings.Contains(p.Body, `id="sign-candidate"`) {
		t.Errorf("the sheet does not show the drawn signature, or asks again:\n%s", p.Body[strings.Index(p.Body, `id="signatures"`):])
	}
	var stored []byte
	if err := a.DB.Get(&stored, `SELECT signature_png FROM attempt_signatures WHERE attempt_id = $1 AND signer = 'candidate' AND in_person`, attempt); err != nil || !bytes.Equal(stored, raw) {
		t.Errorf("stored drawing: %d bytes (%v), want %d", len(stored), err, len(raw))
	}

	// A correction: the original beside the corrected result, signed anew.
	a.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/attempts/%d/corrections", attempt), a.Admin, map[string]any{"score": 70, "reason": "复核更正"})
	p = b.get(sheet)
	for _, want := range []string{"成绩更正", `<td class="original">90 分 合格</td>`, `<td class="corrected result-failed">70 分 不合格</td>`, "复核更正", "以更正后的成绩为准： 70 分 不合格", "原成绩的签名", "更正成绩（70 分）的签名", `id="sign-as-examiner"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("corrected sheet lacks %q", want)
		}
	}
	p = b.post(sign, url.Values{"confirm": {"yes"}})
	if !strings.Contains(p.Body, "欧********** · 科目二 · 不合格 · 70 分") {
		t.Errorf("the examiner's signature of the correction does not name it:\n%s", p.Body)
	}
	if err := a.DB.Get(&n, `SELECT count(*) FROM correction_signatures`); err != nil || n != 1 {
		t.Errorf("%d correction signatures, want 1 (%v)", n, err)
	}

	// Other staff: an examiner of another venue finds nothing; a scheduler reads, without signing.
	elsewhere := newBrowser(a, t)
	elsewhere.logIn(examinerAt(a, t, a.NewVenue(h.Sched, true)), "staff-secret", "/examiner")
	if p := elsewhere.get(sheet); p.Status != http.StatusNotFound {
		t.Errorf("an examiner of another venue: %d", p.Status)
	}
	if p := b.get("/examiner/attempts/999999"); p.Status != http.StatusNotFound {
		t.Errorf("an unknown attempt: %d", p.Status)
	}
	sched := newBrowser(a, t)
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": "sheet-planner", "password": "staff-secret", "role": "scheduler"})
	sched.logIn("sheet-planner", "staff-secret", "/admin/slots")
	if p := sched.get(sheet); p.Status != http.StatusOK || !strings.Contains(p.Body, "中途停车超过2秒") || strings.Contains(p.Body, `class="card sign-step"`) {
		t.Errorf("a scheduler reading the sheet: %d", p.Status)
	}
}
