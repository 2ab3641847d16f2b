package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/kessai/kessai"
)

var _ kessai.Sealer = (*Keyring)(nil)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRing(t testing.TB, cur []byte, old ...[]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(cur, old...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRoundTrip(t *testing.T) {
	k := mustRing(t, newKey(t))
	for _, plain := range [][]byte{nil, {}, []byte("x"), []byte("merchant-pass-123"), bytes.Repeat([]byte{0xAB}, 1<<16)} {
		sealed, err := k.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != len(plain)+Overhead {
			t.Errorf("sealed length %d, want %d", len(sealed), len(plain)+Overhead)
		}
		if sealed[0] != Version {
			t.Errorf("version byte %d", sealed[0])
		}
		if id, _ := SealedKeyID(sealed); id != k.CurrentKeyID() {
			t.Errorf("key id %08x, want %08x", id, k.CurrentKeyID())
		}
		if len(plain) > 4 && bytes.Contains(sealed, plain) {
			t.Error("sealed value contains the plaintext")
		}
		got, err := k.Open(sealed)
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || !bytes.Equal(got, plain) {
			t.Errorf("Open = %q, want %q", got, plain)
		}
	}
}

func TestNonceIsFresh(t *testing.T) {
	k := mustRing(t, newKey(t))
	a, _ := k.Seal([]byte("same"))
	b, _ := k.Seal([]byte("same"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical: nonce reused")
	}
	if bytes.Equal(a[headerSize:headerSize+nonceSize], b[headerSize:headerSize+nonceSize]) {
		t.Fatal("nonce reused")
	}
}

func TestTamperingDetected(t *testing.T) {
	k := mustRing(t, newKey(t))
	sealed, _ := k.Seal([]byte("top secret password"))
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		got, err := k.Open(bad)
		if err == nil {
			t.Fatalf("flipping byte %d went unnoticed: %q", i, got)
		}
		if got != nil {
			t.Fatalf("byte %d: plaintext returned with an error", i)
		}
		if strings.Contains(err.Error(), "secret password") {
			t.Fatalf("error contains plaintext: %v", err)
		}
	}
	if _, err := k.Open(sealed[:len(sealed)-1]); !errors.Is(err, ErrAuth) {
		t.Errorf("truncated: %v, want ErrAuth", err)
	}
	if _, err := k.Open(append(bytes.Clone(sealed), 0)); !errors.Is(err, ErrAuth) {
		t.Errorf("extended: %v, want ErrAuth", err)
	}
	for _, short := range [][]byte{nil, {}, {Version}, sealed[:Overhead-1]} {
		if _, err := k.Open(short); !errors.Is(err, ErrMalformed) {
			t.Errorf("Open(%d bytes) = %v, want ErrMalformed", len(short), err)
		}
	}
	v2 := bytes.Clone(sealed)
	v2[0] = 2
	if _, err := k.Open(v2); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown version: %v, want ErrMalformed", err)
	}
}

func TestWrongKey(t *testing.T) {
	a := mustRing(t, newKey(t))
	b := mustRing(t, newKey(t))
	sealed, _ := a.Seal([]byte("hello"))
	_, err := b.Open(sealed)
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Open with another ring: %v, want ErrUnknownKey", err)
	}
	// A forged header naming b's key still fails authentication.
	forged := bytes.Clone(sealed)
	binary.BigEndian.PutUint32(forged[1:5], b.CurrentKeyID())
	if _, err := b.Open(forged); !errors.Is(err, ErrAuth) {
		t.Fatalf("forged key id: %v, want ErrAuth", err)
	}
}

func TestRotation(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	before := mustRing(t, oldKey)
	sealedOld, _ := before.Seal([]byte("sealed before the rotation"))

	after := mustRing(t, newK, oldKey)
	if after.CurrentKeyID() != KeyID(newK) {
		t.Fatal("current key is not the first")
	}
	got, err := after.Open(sealedOld)
	if err != nil || string(got) != "sealed before the rotation" {
		t.Fatalf("old value after rotation: %q, %v", got, err)
	}
	if !after.Stale(sealedOld) {
		t.Error("value sealed with the old key is not reported stale")
	}
	sealedNew, _ := after.Seal([]byte("new"))
	if after.Stale(sealedNew) {
		t.Error("fresh value reported stale")
	}
	if id, _ := SealedKeyID(sealedNew); id != KeyID(newK) {
		t.Error("new values are not sealed with the new key")
	}
	// The old ring cannot read what the new key sealed.
	if _, err := before.Open(sealedNew); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old ring opened a new value: %v", err)
	}
	if ids := after.KeyIDs(); len(ids) != 2 {
		t.Errorf("KeyIDs = %v", ids)
	}
}

func TestNewKeyringRejects(t *testing.T) {
	if _, err := NewKeyring(make([]byte, 16)); err == nil {
		t.Error("16-byte key accepted")
	}
	if _, err := NewKeyring(make([]byte, KeySize)); err == nil {
		t.Error("all-zero key accepted")
	}
	k := newKey(t)
	if _, err := NewKeyring(newKey(t), k, k); err != nil {
		t.Errorf("duplicate old key refused: %v", err)
	}
	if _, err := NewKeyring(newKey(t), []byte("short")); err == nil || !strings.Contains(err.Error(), "key 2") {
		t.Errorf("bad old key: %v", err)
	}
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadKeyringFromEnv(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	dir := t.TempDir()
	v := base64.StdEncoding.EncodeToString(k1) + ", " + base64.RawURLEncoding.EncodeToString(k2)
	ring, err := LoadKeyring(envOf(map[string]string{EnvMasterKey: v}), dir)
	if err != nil {
		t.Fatal(err)
	}
	if ring.CurrentKeyID() != KeyID(k1) || len(ring.KeyIDs()) != 2 || ring.Source() != EnvMasterKey {
		t.Fatalf("ring: current %08x ids %v source %q", ring.CurrentKeyID(), ring.KeyIDs(), ring.Source())
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !os.IsNotExist(err) {
		t.Error("a key file was created although the variable is set")
	}
}

func TestLoadKeyringEnvErrors(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(newKey(t))
	short := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	secretish := "not*base64*but*secret*material"
	cases := []struct {
		name, value, want string
	}{
		{"not base64", secretish, "key 1 of 1: is not valid base64"},
		{"wrong length", short, "decodes to 16 bytes"},
		{"empty entry", good + ",", "key 2 of 2 is empty"},
		{"empty first", " ," + good, "key 1 of 2 is empty"},
		{"second bad", good + "," + secretish, "key 2 of 2"},
		{"zero key", base64.StdEncoding.EncodeToString(make([]byte, KeySize)), "all bytes are equal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadKeyring(envOf(map[string]string{EnvMasterKey: c.value}), t.TempDir())
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), EnvMasterKey) {
				t.Errorf("error %q, want it to contain %q and the variable name", err, c.want)
			}
			for _, part := range strings.Split(c.value, ",") {
				if p := strings.TrimSpace(part); len(p) > 3 && strings.Contains(err.Error(), p) {
					t.Errorf("error %q contains key material", err)
				}
			}
		})
	}
}

func TestLoadKeyringCreatesFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // not there yet
	env := envOf(map[string]string{EnvMasterKey: "  "})
	ring, err := LoadKeyring(env, dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if len(b) != KeySize || KeyID(b) != ring.CurrentKeyID() || ring.Source() != path {
		t.Fatalf("file holds %d bytes, id %08x, ring %08x", len(b), KeyID(b), ring.CurrentKeyID())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// A second start reuses the key: data sealed before stays readable.
	sealed, _ := ring.Seal([]byte("kept across restarts"))
	again, err := LoadKeyring(env, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(sealed); err != nil || string(got) != "kept across restarts" {
		t.Fatalf("after restart: %q, %v", got, err)
	}
}

func TestLoadKeyringBase64File(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	path := filepath.Join(dir, KeyFileName)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ring, err := LoadKeyring(envOf(nil), dir)
	if err != nil {
		t.Fatal(err)
	}
	if ring.CurrentKeyID() != KeyID(key) {
		t.Fatal("base64 key file not decoded")
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyring(envOf(nil), dir); err == nil || !strings.Contains(err.Error(), "holds 7 bytes") {
		t.Fatalf("garbage key file: %v", err)
	}
}

func TestLoadKeyringRefusesLooseFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no permission bits on Windows")
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o666} {
		dir := t.TempDir()
		path := filepath.Join(dir, KeyFileName)
		if err := os.WriteFile(path, newKey(t), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadKeyring(envOf(nil), dir)
		if err == nil {
			t.Fatalf("mode %#o accepted", mode)
		}
		if !strings.Contains(err.Error(), "chmod 600") || !strings.Contains(err.Error(), path) {
			t.Errorf("mode %#o: unclear error %q", mode, err)
		}
	}
	// Tighter than 0600 is fine.
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFileName)
	if err := os.WriteFile(path, newKey(t), 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyring(envOf(nil), dir); err != nil {
		t.Fatalf("mode 0400 refused: %v", err)
	}
}

func TestLoadKeyringNoSource(t *testing.T) {
	if _, err := LoadKeyring(envOf(nil), ""); err == nil || !strings.Contains(err.Error(), EnvMasterKey) {
		t.Fatalf("no env and no dir: %v", err)
	}
}

func TestLoadKeyringRaceOneKey(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	ids := make(chan uint32, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			r, err := LoadKeyring(envOf(nil), dir)
			if err != nil {
				errs <- err
				return
			}
			ids <- r.CurrentKeyID()
		}()
	}
	var first uint32
	for i := range n {
		select {
		case err := <-errs:
			t.Fatal(err)
		case id := <-ids:
			if i == 0 {
				first = id
			} else if id != first {
				t.Fatal("concurrent first starts created different keys")
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	k := mustRing(t, newKey(t))
	done := make(chan error, 16)
	for i := range 16 {
		go func() {
			p := []byte(strings.Repeat("p", i))
			s, err := k.Seal(p)
			if err == nil {
				var got []byte
				got, err = k.Open(s)
				if err == nil && !bytes.Equal(got, p) {
					err = errors.New("mismatch")
				}
			}
			done <- err
		}()
	}
	for range 16 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// fuzzKey is a fixed key so the committed corpus holds values that
// actually open.
var fuzzKey = []byte("kessai-fuzz-master-key-32-bytes!")

func FuzzOpen(f *testing.F) {
	k := mustRing(f, fuzzKey)
	valid, _ := k.Seal([]byte("seed plaintext"))
	f.Add(valid)
	f.Add([]byte{})
	f.Add([]byte{Version, 0, 0, 0, 0})
	f.Add(bytes.Repeat([]byte{Version}, Overhead))
	f.Fuzz(func(t *testing.T, sealed []byte) {
		plain, err := k.Open(sealed)
		if err != nil {
			if plain != nil {
				t.Fatal("plaintext returned with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrAuth) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		// Whatever opens must be what this ring sealed: re-sealing and
		// opening gives it back, and it was sealed with our key.
		if id, _ := SealedKeyID(sealed); id != k.CurrentKeyID() {
			t.Fatal("opened a value of a foreign key")
		}
		again, err := k.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := k.Open(again); err != nil || !bytes.Equal(back, plain) {
			t.Fatal("round trip of an opened value failed")
		}
	})
}

func FuzzSealOpen(f *testing.F) {
	k := mustRing(f, fuzzKey)
	f.Add([]byte("merchant pass"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, plain []byte) {
		s, err := k.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.Open(s)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestCorpusReachesSuccess makes sure the committed corpus exercises the
// success path of Open, not only the error paths.
func TestCorpusReachesSuccess(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzOpen", "valid"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	lit := strings.TrimSuffix(strings.TrimPrefix(lines[len(lines)-1], "[]byte("), ")")
	sealed, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mustRing(t, fuzzKey).Open([]byte(sealed))
	if err != nil || string(got) != "merchant-pass-Abc123" {
		t.Fatalf("corpus value: %q, %v", got, err)
	}
}

// TestDeriveKey: derived keys are stable for a master key and purpose,
// differ by purpose and by master key, and follow the current key after a
// rotation.
func TestDeriveKey(t *testing.T) {
	a, b := bytes.Repeat([]byte{1, 2}, KeySize/2), bytes.Repeat([]byte{3, 4}, KeySize/2)
	ringA, err := NewKeyring(a)
	if err != nil {
		t.Fatal(err)
	}
	ringA2, _ := NewKeyring(a)
	ringB, _ := NewKeyring(b, a)
	k1 := ringA.DeriveKey("links")
	if len(k1) != KeySize || !bytes.Equal(k1, ringA2.DeriveKey("links")) {
		t.Fatalf("not stable: %x", k1)
	}
	if bytes.Equal(k1, ringA.DeriveKey("other")) {
		t.Fatal("same key for two purposes")
	}
	if bytes.Equal(k1, ringB.DeriveKey("links")) {
		t.Fatal("a rotated ring derives from the old key")
	}
	if bytes.Equal(k1, a) {
		t.Fatal("derived key is the master key")
	}
}
