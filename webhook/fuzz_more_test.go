package webhook

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzSignVerify: what Sign and SignAll write, Verify accepts for the
// same body and any of the secrets, at the signing time; a different
// body, a secret not signed with, or the empty secret never verifies;
// outside the tolerance a genuine signature is ErrTooOld or ErrTooNew.
// (FuzzVerify, in webhook_test.go, throws arbitrary headers at Verify.)
func FuzzSignVerify(f *testing.F) {
	f.Add([]byte("whsec_a"), []byte("whsec_b"), int64(1735787045), testBody, []byte("x"), int64(301))
	f.Add([]byte{}, []byte("k"), int64(0), []byte{}, []byte{}, int64(-301))
	f.Add([]byte("s"), []byte("s"), int64(999999999999), []byte("\x00\xff"), []byte("\x00\xfe"), int64(0))
	f.Fuzz(func(t *testing.T, secret, other []byte, unix int64, body, otherBody []byte, skew int64) {
		// Verify reads 1 to 12 digits: the times kessai signs at.
		unix = unix % 1_000_000_000_000
		if unix < 0 {
			unix = -unix
		}
		at := time.Unix(unix, 0)
		h := Sign(secret, at, body)
		all := SignAll([][]byte{other, secret}, at, body)
		for _, header := range []string{h, all, "  " + strings.ReplaceAll(all, ",", " , ") + " "} {
			err := Verify(header, body, [][]byte{secret}, -1, at)
			if len(secret) == 0 {
				if !errors.Is(err, ErrMismatch) {
					t.Fatalf("empty secret verified %q: %v", header, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Verify(%q) of its own signature: %v", header, err)
			}
			if err := Verify(header, body, [][]byte{nil, other, secret}, 0, at); err != nil {
				t.Fatalf("rotation: %v", err)
			}
			if !bytes.Equal(body, otherBody) {
				if err := Verify(header, otherBody, [][]byte{secret}, -1, at); !errors.Is(err, ErrMismatch) {
					t.Fatalf("another body verified: %v", err)
				}
			}
			// HMAC pads keys with zero bytes, so keys differing only in
			// trailing zeros are one key (never so for whsec_ secrets).
			if !bytes.Equal(bytes.TrimRight(other, "\x00"), bytes.TrimRight(secret, "\x00")) && header == h && len(other) > 0 {
				if err := Verify(header, body, [][]byte{other}, -1, at); !errors.Is(err, ErrMismatch) {
					t.Fatalf("another secret verified: %v", err)
				}
			}
			// The time check, only ever after the signature matched.
			skew = skew % 86400
			now := at.Add(time.Duration(skew) * time.Second)
			err = Verify(header, body, [][]byte{secret}, 0, now)
			switch {
			case skew > int64(DefaultTolerance/time.Second):
				if !errors.Is(err, ErrTooOld) || !errors.Is(err, ErrTimestamp) {
					t.Fatalf("%ds late: %v", skew, err)
				}
			case skew < -int64(DefaultTolerance/time.Second):
				if !errors.Is(err, ErrTooNew) || !errors.Is(err, ErrTimestamp) {
					t.Fatalf("%ds early: %v", skew, err)
				}
			case err != nil:
				t.Fatalf("%ds skew: %v", skew, err)
			}
		}
	})
}

// FuzzParseEvent: a receiver's ParseEvent returns an event only for a
// correctly signed body that decodes to an object with id and type, and
// always leaves the body readable again, byte for byte.
func FuzzParseEvent(f *testing.F) {
	f.Add(testBody, true)
	f.Add([]byte(`{"id":"evt_1"}`), true)
	f.Add([]byte(`{"id":"","type":"x","data":null}`), true)
	f.Add([]byte(`{"id":"e","type":"t","created_at":"yesterday"}`), true)
	f.Add([]byte(`[]`), false)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		r := httptest.NewRequest("POST", "/hooks", bytes.NewReader(body))
		if signed {
			r.Header.Set(HeaderSignature, Sign(testSecret, time.Now(), body))
		} else {
			r.Header.Set(HeaderSignature, Sign(oldSecret, time.Now(), body))
		}
		ev, err := ParseEvent(r, [][]byte{testSecret}, 0)
		again, rerr := io.ReadAll(r.Body)
		if rerr != nil || !bytes.Equal(again, body) {
			t.Fatalf("body not readable again: %q, %v", again, rerr)
		}
		if !signed {
			if !errors.Is(err, ErrMismatch) || ev != nil {
				t.Fatalf("unsigned body: %v, %v", ev, err)
			}
			return
		}
		if err != nil {
			if ev != nil {
				t.Fatal("event with an error")
			}
			return
		}
		if ev.ID == "" || ev.Type == "" {
			t.Fatalf("event without id or type: %+v", ev)
		}
	})
}
