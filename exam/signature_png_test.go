package exam_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"net/http"
	"testing"

	"examd/exam"
	"examd/internal/server/servertest"
)

// signaturePNG is a drawn signature of exactly size bytes: a small PNG with
// a tEXt chunk before IEND padding it out (size ≥ 200).
func signaturePNG(t testing.TB, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 40, 20))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	iend := b[len(b)-12:]
	head := b[:len(b)-12]
	pad := size - len(b) - 12 // the tEXt chunk's length, type and CRC
	if pad < 0 {
		t.Fatalf("a signature of %d bytes is smaller than the PNG (%d)", size, len(b))
	}
	data := append([]byte("Comment\x00"), bytes.Repeat([]byte("x"), pad-8)...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := append(append(append([]byte{}, head...), chunk...), iend...)
	if len(out) != size {
		t.Fatalf("built %d bytes, want %d", len(out), size)
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("the padded PNG does not decode: %v", err)
	}
	return out
}

// TestSignatureImage: ED-SIGN's drawn signature through the API: at most
// 64 KiB, a PNG, base64 (a canvas's data URL too); a refused one records
// no signature; the stored one comes back on the score sheet.
func TestSignatureImage(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	h := servertest.NewHall(t, a)
	_, booking := h.Book(t, h.Slot, 2)
	attempt := h.Pass(t, booking, 2)
	path := fmt.Sprintf("/api/v1/attempts/%d/signatures", attempt)
	b64 := base64.StdEncoding.EncodeToString
	fits := signaturePNG(t, exam.MaxSignaturePNG)
	notPNG := append([]byte("GIF89a"), bytes.Repeat([]byte{0}, 100)...)
	huge := signaturePNG(t, 300) // claims 70000×20 pixels
	binary.BigEndian.PutUint32(huge[16:], 70000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	for _, tc := range []struct {
		name  string
		value any
	}{
		{"OverBy1", b64(signaturePNG(t, exam.MaxSignaturePNG+1))},
		{"NotPNG", b64(notPNG)},
		{"TruncatedHeader", b64(fits[:20])},
		{"HugeImage", b64(huge)},
		{"NotBase64", "iVBORw0KGgo!!!!"},
		{"Empty", ""},
		{"NotString", 42},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.Do("POST", path, h.Examiner, map[string]any{"signer": "candidate", "signature_png": tc.value})
			if r.Status != http.StatusUnprocessableEntity && !(tc.name == "NotString" && r.Status == http.StatusBadRequest) {
				t.Fatalf("got %d %s, want 422", r.Status, r.Raw)
			}
			if e, _ := r.Body["error"].(map[string]any); tc.name != "NotString" && (e["code"] != "invalid_field" || e["field"] != "signature_png") {
				t.Errorf("got %s, want invalid_field on signature_png", r.Raw)
			}
		})
	}
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM attempt_signatures WHERE attempt_id = $1`, attempt); err != nil || n != 0 {
		t.Fatalf("%d signatures after refused ones (%v)", n, err)
	}

	a.Must(http.StatusOK, "POST", path, h.Examiner, map[string]any{"signer": "examiner"})
	sheet := a.Must(http.StatusOK, "POST", path, h.Examiner, map[string]any{"signer": "candidate", "signature_png": "data:image/png;base64," + b64(fits)})
	var got string
	for _, s := range sheet.Body["signatures"].([]any) {
		if s := s.(map[string]any); s["signer"] == "candidate" {
			got, _ = s["signature_png"].(string)
		} else if s["signature_png"] != nil {
			t.Errorf("the examiner's signature has an image")
		}
	}
	if got != b64(fits) || sheet.Body["final"] != true {
		t.Errorf("the candidate's drawn signature of 64 KiB: %d base64 chars, final %v", len(got), sheet.Body["final"])
	}
	var stored []byte
	if err := a.DB.Get(&stored, `SELECT signature_png FROM attempt_signatures WHERE attempt_id = $1 AND signer = 'candidate'`, attempt); err != nil || !bytes.Equal(stored, fits) {
		t.Errorf("stored %d bytes (%v), want %d", len(stored), err, len(fits))
	}
	// The column stays append-only.
	if _, err := a.DB.Exec(`UPDATE attempt_signatures SET signature_png = NULL WHERE attempt_id = $1`, attempt); err == nil {
		t.Errorf("a signature's image could be changed")
	}
}
