package secret_test

import (
	"testing"

	"examd/internal/secret"
)

func TestNew(t *testing.T) {
	a, ha := secret.New()
	b, _ := secret.New()
	if len(a) != 43 {
		t.Errorf("len(secret) = %d, want 43 (32 bytes in base64)", len(a))
	}
	if a == b {
		t.Errorf("two secrets are equal: %q", a)
	}
	if !secret.Equal(a, ha) {
		t.Errorf("Equal(secret, its hash) = false")
	}
	if secret.Equal(b, ha) {
		t.Errorf("Equal(other secret, hash) = true")
	}
	if string(secret.Hash(a)) != string(ha) {
		t.Errorf("Hash(secret) differs from the hash New returned")
	}
}
