package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	testSecret = []byte("whsec_test-secret-0123456789abcdefghijklmnopq")
	oldSecret  = []byte("whsec_old-secret-zyxwvutsrqponmlkjihgfedcba98")
	testBody   = []byte(`{"id":"evt_1","type":"payment.captured","created_at":"2025-01-02T03:04:05Z","data":{"amount":5500}}`)
	testNow    = time.Unix(1735787045, 0)
)

// hexMAC is an independent implementation of the documented algorithm, so
// the tests check Sign against the spec rather than against itself.
func hexMAC(secret []byte, ts string, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts + "." + string(body)))
	return hex.EncodeToString(h.Sum(nil))
}

func TestSignFormat(t *testing.T) {
	got := Sign(testSecret, testNow, testBody)
	want := "t=1735787045,v1=" + hexMAC(testSecret, "1735787045", testBody)
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	all := SignAll([][]byte{testSecret, oldSecret}, testNow, testBody)
	want2 := want + ",v1=" + hexMAC(oldSecret, "1735787045", testBody)
	if all != want2 {
		t.Fatalf("SignAll = %q, want %q", all, want2)
	}
}

func TestVerify(t *testing.T) {
	ts := strconv.FormatInt(testNow.Unix(), 10)
	good := Sign(testSecret, testNow, testBody)
	sigAt := func(at time.Time) string { return Sign(testSecret, at, testBody) }
	v1 := func(secret []byte) string { return hexMAC(secret, ts, testBody) }

	tests := []struct {
		name      string
		header    string
		body      []byte
		secrets   [][]byte
		tolerance time.Duration
		now       time.Time
		want      error
	}{
		{name: "valid", header: good, want: nil},
		{name: "valid with spaces", header: " t=" + ts + " , v1=" + v1(testSecret) + " ", want: nil},
		{name: "valid upper-case hex", header: "t=" + ts + ",v1=" + strings.ToUpper(v1(testSecret)), want: nil},
		{name: "valid v1 before t", header: "v1=" + v1(testSecret) + ",t=" + ts, want: nil},
		{name: "unknown scheme ignored", header: good + ",v2=zzz", want: nil},
		{name: "tampered body", header: good, body: bytes.Replace(testBody, []byte("5500"), []byte("1"), 1), want: ErrMismatch},
		{name: "empty body", header: good, body: []byte{}, want: ErrMismatch},
		{name: "wrong secret", header: good, secrets: [][]byte{oldSecret}, want: ErrMismatch},
		{name: "no secrets", header: good, secrets: [][]byte{}, want: ErrMismatch},
		{name: "empty secret never matches", header: Sign(nil, testNow, testBody), secrets: [][]byte{{}}, want: ErrMismatch},
		{name: "timestamp changed", header: "t=" + strconv.FormatInt(testNow.Unix()+1, 10) + ",v1=" + v1(testSecret), want: ErrMismatch},
		{name: "timestamp with leading zero", header: "t=0" + ts + ",v1=" + v1(testSecret), want: ErrMismatch},
		{name: "multiple v1, second matches", header: "t=" + ts + ",v1=" + v1(oldSecret) + ",v1=" + v1(testSecret), want: nil},
		{name: "multiple v1, none matches", header: "t=" + ts + ",v1=" + v1(oldSecret) + ",v1=" + v1([]byte("x")), want: ErrMismatch},
		{name: "rotation: old secret known", header: SignAll([][]byte{[]byte("whsec_new"), oldSecret}, testNow, testBody), secrets: [][]byte{oldSecret}, want: nil},
		{name: "rotation: receiver knows both", header: good, secrets: [][]byte{oldSecret, testSecret}, want: nil},
		{name: "replay outside tolerance", header: sigAt(testNow.Add(-6 * time.Minute)), want: ErrTooOld},
		{name: "old but inside tolerance", header: sigAt(testNow.Add(-4 * time.Minute)), want: nil},
		{name: "exactly at tolerance", header: sigAt(testNow.Add(-5 * time.Minute)), want: nil},
		{name: "future timestamp", header: sigAt(testNow.Add(6 * time.Minute)), want: ErrTooNew},
		{name: "slightly in the future", header: sigAt(testNow.Add(30 * time.Second)), want: nil},
		{name: "custom tolerance", header: sigAt(testNow.Add(-2 * time.Minute)), tolerance: time.Minute, want: ErrTooOld},
		{name: "negative tolerance disables check", header: sigAt(testNow.Add(-72 * time.Hour)), tolerance: -1, want: nil},
		{name: "forged old timestamp is a mismatch, not too old", header: "t=1,v1=" + v1(testSecret), want: ErrMismatch},
		{name: "empty header", header: "", want: ErrNoSignature},
		{name: "blank header", header: "   ", want: ErrNoSignature},
		{name: "only timestamp", header: "t=" + ts, want: ErrNoSignature},
		{name: "only unknown scheme", header: "t=" + ts + ",v0=abc", want: ErrNoSignature},
		{name: "no timestamp", header: "v1=" + v1(testSecret), want: ErrBadHeader},
		{name: "two timestamps", header: "t=" + ts + ",t=" + ts + ",v1=" + v1(testSecret), want: ErrBadHeader},
		{name: "timestamp not a number", header: "t=abc,v1=" + v1(testSecret), want: ErrBadHeader},
		{name: "negative timestamp", header: "t=-5,v1=" + v1(testSecret), want: ErrBadHeader},
		{name: "signed timestamp", header: "t=+" + ts + ",v1=" + v1(testSecret), want: ErrBadHeader},
		{name: "huge timestamp", header: "t=99999999999999999999,v1=" + v1(testSecret), want: ErrBadHeader},
		{name: "empty timestamp", header: "t=,v1=" + v1(testSecret), want: ErrBadHeader},
		{name: "v1 not hex", header: "t=" + ts + ",v1=" + strings.Repeat("zz", 32), want: ErrBadHeader},
		{name: "v1 too short", header: "t=" + ts + ",v1=" + v1(testSecret)[:62], want: ErrBadHeader},
		{name: "v1 too long", header: "t=" + ts + ",v1=" + v1(testSecret) + "00", want: ErrBadHeader},
		{name: "entry without =", header: "t=" + ts + ",v1", want: ErrBadHeader},
		{name: "empty entry", header: "t=" + ts + ",,v1=" + v1(testSecret), want: ErrBadHeader},
		{name: "trailing comma", header: good + ",", want: ErrBadHeader},
		{name: "empty key", header: "=x," + good, want: ErrBadHeader},
		{name: "semicolons instead of commas", header: "t=" + ts + ";v1=" + v1(testSecret), want: ErrBadHeader},
		{name: "too long", header: good + strings.Repeat(",x=y", 2000), want: ErrBadHeader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if body == nil {
				body = testBody
			}
			secrets := tc.secrets
			if secrets == nil {
				secrets = [][]byte{testSecret}
			}
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			err := Verify(tc.header, body, secrets, tc.tolerance, now)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Verify(%q) = %v, want %v", tc.header, err, tc.want)
			}
		})
	}
}

func TestTimestampErrorsMatchErrTimestamp(t *testing.T) {
	for _, err := range []error{ErrTooOld, ErrTooNew} {
		if !errors.Is(err, ErrTimestamp) {
			t.Errorf("errors.Is(%v, ErrTimestamp) = false", err)
		}
		if errors.Is(err, ErrMismatch) {
			t.Errorf("errors.Is(%v, ErrMismatch) = true", err)
		}
	}
	if errors.Is(ErrTooOld, ErrTooNew) {
		t.Error("ErrTooOld matches ErrTooNew")
	}
	wrapped := fmt.Errorf("handler: %w", ErrTooOld)
	if !errors.Is(wrapped, ErrTimestamp) || !errors.Is(wrapped, ErrTooOld) {
		t.Error("wrapped ErrTooOld lost its identity")
	}
}

func TestVerifyZeroNowUsesClock(t *testing.T) {
	h := Sign(testSecret, time.Now(), testBody)
	if err := Verify(h, testBody, [][]byte{testSecret}, 0, time.Time{}); err != nil {
		t.Fatalf("Verify with zero now: %v", err)
	}
	old := Sign(testSecret, time.Now().Add(-time.Hour), testBody)
	if err := Verify(old, testBody, [][]byte{testSecret}, 0, time.Time{}); !errors.Is(err, ErrTooOld) {
		t.Fatalf("Verify of an hour-old signature with default tolerance = %v, want ErrTooOld", err)
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		rest, ok := strings.CutPrefix(s, SecretPrefix)
		if !ok {
			t.Fatalf("secret %q lacks prefix %q", s, SecretPrefix)
		}
		raw, err := base64.RawURLEncoding.DecodeString(rest)
		if err != nil || len(raw) != 32 {
			t.Fatalf("secret %q: not base64url of 32 bytes (%d bytes, %v)", s, len(raw), err)
		}
		if seen[s] {
			t.Fatalf("NewSecret repeated %q", s)
		}
		seen[s] = true
	}
}

func TestParseEvent(t *testing.T) {
	secrets := [][]byte{testSecret}
	newReq := func(body []byte, sig string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
		if sig != "" {
			r.Header.Set(HeaderSignature, sig)
		}
		return r
	}

	t.Run("valid", func(t *testing.T) {
		r := newReq(testBody, Sign(testSecret, time.Now(), testBody))
		ev, err := ParseEvent(r, secrets, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != "evt_1" || ev.Type != "payment.captured" || string(ev.Data) != `{"amount":5500}` ||
			!ev.CreatedAt.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Fatalf("ParseEvent = %+v", ev)
		}
		again, _ := io.ReadAll(r.Body)
		if !bytes.Equal(again, testBody) {
			t.Fatalf("body not readable after ParseEvent: %q", again)
		}
	})

	tests := []struct {
		name string
		body []byte
		sig  string
		want error // nil: any error
	}{
		{name: "no signature", body: testBody, want: ErrNoSignature},
		{name: "wrong secret", body: testBody, sig: Sign(oldSecret, time.Now(), testBody), want: ErrMismatch},
		{name: "replay", body: testBody, sig: Sign(testSecret, time.Now().Add(-time.Hour), testBody), want: ErrTimestamp},
		{name: "too large", body: bytes.Repeat([]byte("a"), MaxBodyBytes+1), sig: "t=1,v1=00", want: ErrBodyTooLarge},
		{name: "signed but not JSON", body: []byte("hello"), sig: Sign(testSecret, time.Now(), []byte("hello"))},
		{name: "signed JSON without id", body: []byte(`{"type":"x"}`), sig: Sign(testSecret, time.Now(), []byte(`{"type":"x"}`))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent(newReq(tc.body, tc.sig), secrets, 0)
			if err == nil {
				t.Fatalf("ParseEvent = %+v, want an error", ev)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("ParseEvent error = %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzVerify feeds arbitrary headers to Verify. It must never panic, and
// whenever it accepts a header, the header must really carry the correct
// v1 signature for its own timestamp: nothing else may verify.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"id":"evt_1"}`)
	f.Add(Sign(testSecret, testNow, body))
	f.Add(SignAll([][]byte{oldSecret, testSecret}, testNow, body))
	f.Add("t=1735787045,v1=" + strings.Repeat("0", 64))
	f.Add("t=,v1=")
	f.Add(",,,")
	f.Add("t=1735787045")
	f.Fuzz(func(t *testing.T, header string) {
		err := Verify(header, body, [][]byte{testSecret}, -1, testNow)
		h, perr := parseHeader(header)
		if perr != nil {
			if err == nil {
				t.Fatalf("Verify accepted %q that parseHeader rejects (%v)", header, perr)
			}
			if !errors.Is(err, ErrBadHeader) && !errors.Is(err, ErrNoSignature) {
				t.Fatalf("parse failure of %q reported as %v", header, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, ErrMismatch) {
				t.Fatalf("Verify(%q) = %v, want nil or ErrMismatch", header, err)
			}
			return
		}
		want, _ := hex.DecodeString(hexMAC(testSecret, h.ts, body))
		found := false
		for _, s := range h.sigs {
			if bytes.Equal(s, want) {
				found = true
			}
		}
		if !found {
			t.Fatalf("Verify accepted %q without a correct v1", header)
		}
		// The accepted timestamp must be the one that was signed.
		if strconv.FormatInt(h.unix, 10) != strings.TrimLeft(h.ts, "0") && h.unix != 0 {
			t.Fatalf("timestamp %q parsed as %d", h.ts, h.unix)
		}
	})
}
