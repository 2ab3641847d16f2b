package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// EnvMasterKey is the environment variable holding the master key(s).
const EnvMasterKey = "KESSAI_MASTER_KEY"

// KeyFileName is the key file LoadKeyring uses in the data directory when
// the environment variable is unset.
const KeyFileName = "master.key"

// randRead fills b with random bytes (crypto/rand; replaceable in tests).
var randRead = func(b []byte) error {
	_, err := rand.Read(b)
	return err
}

// LoadKeyring finds the master key.
//
// When KESSAI_MASTER_KEY is set (env returns non-blank), it holds the
// base64 (standard or URL alphabet, padded or not) of a 32-byte key, or a
// comma-separated list of them: the first seals, all open. Rotation is
// "prepend the new key, keep the old ones until nothing sealed with them
// is left" (see Keyring.Stale).
//
// Otherwise the key is the file <dataDir>/master.key, created at first
// start with 32 random bytes and mode 0600, so a new installation works
// with no configuration. An existing file must hold either the 32 raw
// bytes or their base64 text, and must not be readable or writable by
// group or others (mode 0600 or tighter): a looser file is refused, since
// the key would be as exposed as the database it protects. (The mode check
// is skipped on Windows, whose files have no such bits.) To rotate a
// file-based key, move to the environment variable: the new key first,
// then the base64 of the file's contents.
//
// Errors name the variable, the file and the position of a bad key in the
// list, never key material.
func LoadKeyring(env func(string) string, dataDir string) (*Keyring, error) {
	if v := strings.TrimSpace(env(EnvMasterKey)); v != "" {
		keys, err := parseKeyList(v)
		if err != nil {
			return nil, err
		}
		k, err := NewKeyring(keys[0], keys[1:]...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvMasterKey, err)
		}
		k.source = EnvMasterKey
		return k, nil
	}
	if dataDir == "" {
		return nil, fmt.Errorf("secret: no master key: set %s or give a data directory for %s", EnvMasterKey, KeyFileName)
	}
	path := filepath.Join(dataDir, KeyFileName)
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKeyFile(path)
	}
	if err != nil {
		return nil, err
	}
	k, err := NewKeyring(key)
	if err != nil {
		return nil, fmt.Errorf("secret: %s: %w", path, err)
	}
	k.source = path
	return k, nil
}

// parseKeyList decodes the comma-separated base64 keys of the variable.
func parseKeyList(v string) ([][]byte, error) {
	parts := strings.Split(v, ",")
	keys := make([][]byte, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("secret: %s: key %d of %d is empty", EnvMasterKey, i+1, len(parts))
		}
		key, err := decodeBase64Key(p)
		if err != nil {
			return nil, fmt.Errorf("secret: %s: key %d of %d: %w", EnvMasterKey, i+1, len(parts), err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// decodeBase64Key accepts the four common base64 variants: keys come from
// `openssl rand -base64 32`, Go's URL encoding, or a secret manager that
// strips padding. The error describes the problem, never the input.
func decodeBase64Key(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("decodes to %d bytes, want %d (generate with: openssl rand -base64 32)", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("is not valid base64 (generate with: openssl rand -base64 32)")
}

// readKeyFile reads an existing key file after checking its mode.
func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("secret: master key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secret: master key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("secret: master key file %s has permissions %#o, which let other users read or change it; "+
			"run `chmod 600 %s` (and check who could have read it) before starting", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret: master key file: %w", err)
	}
	if len(b) == KeySize {
		return b, nil
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && len(t) < 100 {
		if key, err := decodeBase64Key(string(t)); err == nil {
			return key, nil
		}
	}
	return nil, fmt.Errorf("secret: master key file %s holds %d bytes: want %d raw bytes or their base64", path, len(b), KeySize)
}

// createKeyFile writes a new random key. The key is written to a temporary
// file first and then hard-linked into place, which fails if the name
// exists: two instances starting together on one data directory end up
// with the same key (the loser reads the winner's), and no reader ever sees
// a half-written file.
func createKeyFile(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secret: data directory: %w", err)
	}
	key := make([]byte, KeySize)
	if err := randRead(key); err != nil {
		return nil, fmt.Errorf("secret: no randomness for the master key: %w", err)
	}
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("secret: generated master key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".master.key-*")
	if err != nil {
		return nil, fmt.Errorf("secret: creating the master key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp already uses 0600; Chmod makes it explicit and immune to
	// a future change there.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secret: creating the master key file: %w", err)
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secret: writing the master key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("secret: writing the master key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("secret: writing the master key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path) // another process won the race
		}
		return nil, fmt.Errorf("secret: creating the master key file: %w", err)
	}
	syncDir(dir)
	return key, nil
}

// syncDir makes the new directory entry durable, so a crash right after
// the first start cannot lose the key of already sealed data. Best effort:
// not every platform can fsync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
