package exam

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"strings"

	"examd/internal/refusal"
)

// MaxSignaturePNG is the largest drawn signature kept with a signature
// (ED-SIGN): 64 KiB of PNG.
const MaxSignaturePNG = 64 << 10

// maxSignatureSide bounds a drawing's width and height in pixels: a small
// PNG may claim a huge image, and a signature box is a tablet's width.
const maxSignatureSide = 4096

// ErrSignaturePNG refuses a drawn signature that is not a PNG of at most
// 64 KiB given in base64.
var ErrSignaturePNG = refusal.Invalid("signature_png", "签名图片须为不超过 64 KiB 的 PNG（base64）")

// DecodeSignaturePNG reads a drawn signature (ED-SIGN) for both front doors:
// base64 of a PNG, or the data URL a canvas gives (data:image/png;base64,…).
// It checks that the bytes start as a PNG does (the signature and the IHDR
// chunk), that the image is at most maxSignatureSide on each side and that
// there are at most MaxSignaturePNG bytes.
func DecodeSignaturePNG(s string) ([]byte, error) {
	s = strings.TrimPrefix(s, "data:image/png;base64,")
	if base64.StdEncoding.DecodedLen(len(s)) > MaxSignaturePNG+3 {
		return nil, ErrSignaturePNG // too long to be 64 KiB, before decoding it
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) == 0 || len(b) > MaxSignaturePNG {
		return nil, ErrSignaturePNG
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxSignatureSide || cfg.Height > maxSignatureSide {
		return nil, ErrSignaturePNG
	}
	return b, nil
}
