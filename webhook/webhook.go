// Package webhook signs and verifies kessai's webhook deliveries.
//
// kessai POSTs every event to the shop's endpoint as JSON
//
//	{"id":"evt_…","type":"payment.captured","created_at":"2025-01-02T03:04:05Z","data":{…}}
//
// with these headers:
//
//	Kessai-Signature: t=1735787045,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//	Kessai-Event-Id: evt_…
//	Kessai-Event-Type: payment.captured
//	Kessai-Delivery-Attempt: 1
//
// v1 is the lower-case hex HMAC-SHA256, keyed with the endpoint's secret
// (the whole "whsec_…" string, as bytes), of the timestamp, a dot and the
// raw request body: "<t>.<body>". The timestamp is signed too, so an
// attacker who captured one delivery cannot replay it later: Verify rejects
// a timestamp outside a tolerance (5 minutes is recommended). While a secret
// is being rotated, the header may carry several v1 entries; any one
// matching a known secret is enough.
//
// The same event may arrive more than once (a retry after a lost response,
// or a manual resend): receivers de-duplicate by the event id.
//
// The package depends only on the standard library, so shops written in Go
// can import it without pulling in the rest of kessai:
//
//	http.HandleFunc("/kessai", func(w http.ResponseWriter, r *http.Request) {
//		ev, err := webhook.ParseEvent(r, [][]byte{[]byte(os.Getenv("KESSAI_WEBHOOK_SECRET"))}, 5*time.Minute)
//		if err != nil {
//			http.Error(w, "bad signature", http.StatusBadRequest)
//			return
//		}
//		// handle ev.Type / ev.Data once per ev.ID, then answer 2xx quickly
//	})
package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of a delivery.
const (
	// HeaderSignature carries "t=<unix seconds>,v1=<hex HMAC-SHA256>".
	HeaderSignature = "Kessai-Signature"
	// HeaderEventID is the event's id, the same as "id" in the body; use it
	// to de-duplicate before parsing the body if that is cheaper.
	HeaderEventID = "Kessai-Event-Id"
	// HeaderEventType is the event's type, the same as "type" in the body.
	HeaderEventType = "Kessai-Event-Type"
	// HeaderDeliveryAttempt is 1 for the first try of a delivery and counts
	// up with each automatic retry.
	HeaderDeliveryAttempt = "Kessai-Delivery-Attempt"
)

// SecretPrefix starts every secret made by NewSecret, so a secret pasted
// into the wrong place is recognisable (and findable by secret scanners).
const SecretPrefix = "whsec_"

// DefaultTolerance is the recommended maximum age (and future skew) of a
// signature's timestamp: long enough for clocks that drift a little and a
// slow network, short enough that a captured delivery is useless soon.
const DefaultTolerance = 5 * time.Minute

// MaxBodyBytes bounds the body ParseEvent reads. kessai's events are a few
// kilobytes; the bound keeps a hostile sender from exhausting memory.
const MaxBodyBytes = 1 << 20

// schemeV1 is the only signature scheme so far. Unknown schemes in the
// header (a future v2) are ignored, so kessai can add one without breaking
// receivers built against this version.
const schemeV1 = "v1"

// Errors returned by Verify and ParseEvent. Compare with errors.Is.
var (
	// ErrNoSignature: the header is missing or has no v1 signature.
	ErrNoSignature = errors.New("webhook: no signature")
	// ErrBadHeader: the header is not "t=<digits>,v1=<64 hex>[,v1=…]".
	ErrBadHeader = errors.New("webhook: malformed signature header")
	// ErrMismatch: no v1 signature matches any of the secrets, or the body
	// was changed in transit.
	ErrMismatch = errors.New("webhook: signature mismatch")
	// ErrTimestamp: the signature is genuine but its timestamp is outside
	// the tolerance, in either direction. ErrTooOld and ErrTooNew match it
	// with errors.Is.
	ErrTimestamp = errors.New("webhook: timestamp outside tolerance")
	// ErrTooOld: the timestamp is older than the tolerance (a replay, or a
	// receiver whose clock is far behind).
	ErrTooOld error = &timestampError{"webhook: timestamp too old"}
	// ErrTooNew: the timestamp is further in the future than the tolerance
	// (a clock far off; never accepted, or a forged future timestamp could be
	// replayed for longer).
	ErrTooNew error = &timestampError{"webhook: timestamp in the future"}
	// ErrBodyTooLarge: ParseEvent read more than MaxBodyBytes.
	ErrBodyTooLarge = errors.New("webhook: body too large")
)

// timestampError lets the two directions be told apart while both still
// match ErrTimestamp.
type timestampError struct{ msg string }

func (e *timestampError) Error() string        { return e.msg }
func (e *timestampError) Is(target error) bool { return target == ErrTimestamp }

// Sign returns the Kessai-Signature header value for body sent at t,
// signed with secret.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + "," + schemeV1 + "=" + hex.EncodeToString(mac(secret, ts, body))
}

// SignAll is Sign with one v1 entry per secret, for the overlap while a
// secret is rotated: receivers that know either secret accept it.
func SignAll(secrets [][]byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, s := range secrets {
		b.WriteString("," + schemeV1 + "=" + hex.EncodeToString(mac(s, ts, body)))
	}
	return b.String()
}

// mac is HMAC-SHA256(secret, ts + "." + body). ts is the timestamp exactly
// as it appears in the header, so a verifier never re-formats it.
func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// header is a parsed Kessai-Signature value.
type header struct {
	ts   string // digits, as sent (signed verbatim)
	unix int64
	sigs [][]byte // decoded v1 signatures, each sha256.Size bytes
}

// maxHeaderLen bounds the header Verify parses: a real one has a timestamp
// and a handful of signatures, far below this.
const maxHeaderLen = 4096

// parseHeader parses "t=…,v1=…[,v1=…]". Entries are separated by commas
// and may be surrounded by spaces; keys are case-sensitive; entries with
// unknown keys are skipped. Exactly one t is required.
func parseHeader(s string) (*header, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrNoSignature
	}
	if len(s) > maxHeaderLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrBadHeader, maxHeaderLen)
	}
	h := &header{}
	seenT := false
	for item := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: entry %q is not key=value", ErrBadHeader, item)
		}
		switch k {
		case "t":
			if seenT {
				return nil, fmt.Errorf("%w: more than one timestamp", ErrBadHeader)
			}
			seenT = true
			n, err := parseUnix(v)
			if err != nil {
				return nil, err
			}
			h.ts, h.unix = v, n
		case schemeV1:
			if len(v) != 2*sha256.Size {
				return nil, fmt.Errorf("%w: v1 is not %d hex digits", ErrBadHeader, 2*sha256.Size)
			}
			sig, err := hex.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("%w: v1 is not hex", ErrBadHeader)
			}
			h.sigs = append(h.sigs, sig)
		}
	}
	if !seenT {
		return nil, fmt.Errorf("%w: no timestamp", ErrBadHeader)
	}
	if len(h.sigs) == 0 {
		return nil, ErrNoSignature
	}
	return h, nil
}

// parseUnix accepts only plain decimal digits (no sign, no spaces, at most
// 12 digits: year 33658 is far enough), because the digits are signed
// verbatim and anything looser invites two spellings of one time.
func parseUnix(v string) (int64, error) {
	if v == "" || len(v) > 12 {
		return 0, fmt.Errorf("%w: bad timestamp", ErrBadHeader)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("%w: bad timestamp", ErrBadHeader)
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: bad timestamp", ErrBadHeader)
	}
	return n, nil
}

// Verify checks the Kessai-Signature header value against body: one of its
// v1 signatures must be the HMAC of its timestamp and body under one of
// secrets (several during a rotation), and the timestamp must be within
// tolerance of now, in either direction.
//
// tolerance 0 means DefaultTolerance; a negative tolerance disables the
// time check (only for replaying stored deliveries in tests: it removes the
// replay protection). A zero now means time.Now().
//
// The signature is checked before the timestamp, so ErrTooOld and ErrTooNew
// are only ever returned for deliveries that kessai really signed: they
// point at a replay or a wrong clock, never at a forgery.
func Verify(header string, body []byte, secrets [][]byte, tolerance time.Duration, now time.Time) error {
	h, err := parseHeader(header)
	if err != nil {
		return err
	}
	matched := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue // an unset secret must never verify anything
		}
		want := mac(secret, h.ts, body)
		for _, sig := range h.sigs {
			// Constant time, so the comparison leaks nothing about how
			// many leading bytes of a forged signature were right. Every
			// pair is compared (no early exit) for the same reason.
			if hmac.Equal(want, sig) {
				matched = true
			}
		}
	}
	if !matched {
		return ErrMismatch
	}
	if tolerance < 0 {
		return nil
	}
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	if now.IsZero() {
		now = time.Now()
	}
	age := now.Sub(time.Unix(h.unix, 0))
	switch {
	case age > tolerance:
		return ErrTooOld
	case age < -tolerance:
		return ErrTooNew
	}
	return nil
}

// NewSecret returns a new endpoint secret: "whsec_" followed by 32 random
// bytes in unpadded base64url (256 bits, the HMAC-SHA256 key size).
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("webhook: generate secret: %w", err)
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Event is a delivered event, as in the request body.
type Event struct {
	// ID identifies the event; a redelivery carries the same ID.
	ID string `json:"id"`
	// Type is one of the documented event types, e.g. "payment.captured".
	Type string `json:"type"`
	// CreatedAt is when the event happened (not when it was sent).
	CreatedAt time.Time `json:"created_at"`
	// Data is the affected object, shaped by Type.
	Data json.RawMessage `json:"data"`
}

// ParseEvent reads r's body (at most MaxBodyBytes), verifies its
// Kessai-Signature against secrets with Verify (at the current time) and
// decodes the event. The body is left readable again in r.Body, so a
// handler can still log or re-parse it.
func ParseEvent(r *http.Request, secrets [][]byte, tolerance time.Duration) (*Event, error) {
	if r.Body == nil {
		return nil, errors.New("webhook: request has no body")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("webhook: read body: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, ErrBodyTooLarge
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := Verify(r.Header.Get(HeaderSignature), body, secrets, tolerance, time.Time{}); err != nil {
		return nil, err
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("webhook: decode event: %w", err)
	}
	if ev.ID == "" || ev.Type == "" {
		return nil, errors.New("webhook: event without id or type")
	}
	return &ev, nil
}
