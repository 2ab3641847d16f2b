package storetest

import (
	"github.com/kessai/kessai"
	"github.com/kessai/kessai/secret"
)

// testKey is the master key of TestSealer: fixed and public, so only for
// tests.
var testKey = []byte("kessai storetest key, not secret") // 32 bytes: AES-256

// TestSealer returns the product's sealer (a secret.Keyring) under a
// fixed, public test key. Adapters' tests pass it to Open, and the suite
// checks that the database never holds a secret in clear.
func TestSealer() kessai.Sealer {
	k, err := secret.NewKeyring(testKey)
	if err != nil {
		panic("storetest: " + err.Error())
	}
	return k
}
