// Package kessai holds the domain of the kessai payment service: shops,
// orders, payments and their attempts and history, card members, events,
// settings, API keys and idempotency records, the error kinds every layer
// shares, and the storage interface the SQLite and PostgreSQL adapters
// implement. It depends on nothing but the escott protocol package.
//
// Money is an int64 number of yen (JPY only). Times are stored in UTC and
// shown in Asia/Tokyo. Every row belongs to a shop.
package kessai

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// Currency is the only currency the gateway settles.
const Currency = "JPY"

// idEncoding is lower-case Crockford-like base32 without padding: IDs are
// safe in URLs and file names and sort by creation time.
var idEncoding = base32.NewEncoding(idAlphabet).WithPadding(base32.NoPadding)

const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns a new identifier "<prefix>_<26 chars>": 48 bits of
// millisecond time followed by 80 random bits, so IDs created later sort
// after earlier ones (handy for cursor pagination) and never collide in
// practice.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("kessai: crypto/rand failed: " + err.Error()) // the platform is broken; nothing safe to do
	}
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// ValidID reports whether s looks like an ID made by NewID with prefix.
func ValidID(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	// The alphabet is checked first: base32 decoding skips '\r' and '\n',
	// so "ord_" + 25 characters + "\n" would decode.
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(idAlphabet, rest[i]) < 0 {
			return false
		}
	}
	_, err := idEncoding.DecodeString(rest)
	return err == nil
}

// JST is Japan Standard Time (no daylight saving), used for every date a
// shopper, operator or the gateway sees.
var JST = time.FixedZone("JST", 9*60*60)
