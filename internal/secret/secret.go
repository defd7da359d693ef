// Package secret makes the random secrets examd hands out once (session
// tokens, device keys, display tokens) and the hashes it keeps of them.
//
// Only the SHA-256 of a secret is stored, and a secret is checked by looking
// its hash up (an index lookup on the hash): a stolen table holds nothing
// that logs anyone in, and the 256 random bits make a fast hash enough, where
// a password needs bcrypt. Comparing hashes of such secrets leaks nothing a
// guesser can use, so no comparison here needs constant time.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// New returns a fresh random secret (32 bytes, URL-safe base64, no padding)
// and the hash under which it is stored.
func New() (plain string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	plain = base64.RawURLEncoding.EncodeToString(b)
	return plain, Hash(plain)
}

// Hash is the stored form of a secret: its SHA-256.
func Hash(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}
