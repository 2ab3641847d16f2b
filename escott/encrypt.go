package escott

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Cipher encrypts and decrypts EncryptValue: AES-128-CBC with the merchant's
// fixed key and IV (16 ASCII characters each, used as raw bytes), PKCS#7
// padding and standard base64 — byte-compatible with the merchant plugins.
type Cipher struct {
	block cipher.Block
	iv    []byte
}

// ErrBadEncryptValue is returned for any EncryptValue that cannot be
// decrypted and parsed. Details are deliberately not exposed: telling a
// caller which step failed would make the value a padding oracle.
var ErrBadEncryptValue = errors.New("escott: EncryptValue cannot be decrypted")

// maxEncryptValue bounds the accepted base64 length of an EncryptValue.
const maxEncryptValue = 16 << 10

// NewCipher checks key and IV and prepares a Cipher. Both must be exactly 16
// bytes: the PHP plugins silently pad or truncate other lengths, which only
// hides a mistyped setting.
func NewCipher(key, iv string) (*Cipher, error) {
	if len(key) != aes.BlockSize {
		return nil, fmt.Errorf("escott: the AES key must be exactly 16 characters, got %d", len(key))
	}
	if len(iv) != aes.BlockSize {
		return nil, fmt.Errorf("escott: the AES IV must be exactly 16 characters, got %d", len(iv))
	}
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		return nil, err
	}
	return &Cipher{block: block, iv: []byte(iv)}, nil
}

// EncryptString encrypts an arbitrary plaintext.
func (c *Cipher) EncryptString(plain string) string {
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, c.iv).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// Encrypt encodes params as a form query string (insertion order) and
// encrypts it.
func (c *Cipher) Encrypt(p Params) string {
	return c.EncryptString(p.Encode())
}

// DecryptString reverses EncryptString. Whitespace and line breaks inside
// the base64 text are tolerated, and so is a '+' that a form decoder turned
// into a space on the way.
func (c *Cipher) DecryptString(value string) (string, error) {
	if len(value) == 0 || len(value) > maxEncryptValue {
		return "", ErrBadEncryptValue
	}
	value = strings.Map(func(r rune) rune {
		switch r {
		case ' ':
			return '+'
		case '\r', '\n', '\t':
			return -1
		}
		return r
	}, value)
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return "", ErrBadEncryptValue
	}
	cipher.NewCBCDecrypter(c.block, c.iv).CryptBlocks(raw, raw)
	pad := int(raw[len(raw)-1])
	if pad < 1 || pad > aes.BlockSize || pad > len(raw) {
		return "", ErrBadEncryptValue
	}
	if !bytes.Equal(raw[len(raw)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return "", ErrBadEncryptValue
	}
	plain := raw[:len(raw)-pad]
	if !plausiblePlaintext(plain) {
		return "", ErrBadEncryptValue
	}
	return string(plain), nil
}

// plausiblePlaintext rejects what a changed EncryptValue decrypts to. The
// gateway's AES-CBC carries no MAC, so a modified ciphertext still
// decrypts, but every modified block comes out as 16 random bytes, and
// random bytes are almost never control-free valid UTF-8, which the
// gateway's query strings always are. This is a tamper check, not a
// substitute for verifying the outcome with the gateway (the 3DS fields
// are checked again by the authorisation).
func plausiblePlaintext(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// Decrypt decrypts value and parses the plaintext as a query string. Values
// written without percent-encoding (as some integrations do for URLs) parse
// the same.
func (c *Cipher) Decrypt(value string) (url.Values, error) {
	plain, err := c.DecryptString(value)
	if err != nil {
		return nil, err
	}
	fields, err := url.ParseQuery(plain)
	if err != nil || len(fields) == 0 {
		return nil, ErrBadEncryptValue
	}
	return fields, nil
}
