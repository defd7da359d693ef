package secret_test

import (
	"testing"

	"examd/internal/secret"
)

// TestNew: each secret is new, 32 bytes, stored as its own hash.
func TestNew(t *testing.T) {
	a, ha := secret.New()
	b, _ := secret.New()
	if len(a) != 43 {
		t.Errorf("len(secret) = %d, want 43 (32 bytes in base64)", len(a))
	}
	if a == b {
		t.Errorf("two secrets are equal: %q", a)
	}
	if string(secret.Hash(b)) == string(ha) {
		t.Errorf("two secrets share a hash")
	}
	if string(secret.Hash(a)) != string(ha) {
		t.Errorf("Hash(secret) differs from the hash New returned")
	}
}
