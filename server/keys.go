package server

import (
	"crypto/rand"
	"fmt"
)

// randomKey returns a fresh 32-byte key for signing cursors.
func randomKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(fmt.Sprintf("server: no randomness for the cursor key: %v", err))
	}
	return k
}
