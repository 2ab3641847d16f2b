// Package service is kessai's application layer: the use cases that the
// JSON API, the hosted checkout and the admin console share, written once
// over kessai.Store.
//
// Every method takes the shop it acts for, validates its input completely
// (returning kessai.ValidationErrors with JSON field paths and Japanese and
// English messages, so a client can fix everything at once), and returns
// errors that carry a kessai.Kind: the transport layer turns the kind into
// one HTTP status and never has to guess. Store errors are translated here
// (ErrNotFound → KindNotFound naming the resource, ErrDuplicate and
// ErrConflict → KindConflict); anything else becomes KindInternal, whose
// details only reach the log.
//
// Events are written in the same transaction as the change they describe
// (the outbox pattern): a crash can never leave an order without its
// order.created event or an event for an order that was rolled back. After
// the commit, Config.AfterEvent wakes the job runner so that webhooks go out
// at once instead of at the next poll.
package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/password"
)

// Resender queues the redelivery of one event to one webhook endpoint. The
// job runner (package jobs) implements it; the service only checks that the
// event and endpoint exist in the shop before asking.
type Resender interface {
	Resend(ctx context.Context, shopID, eventID, endpointID string) error
}

// Config wires a Service. Only Store is required.
type Config struct {
	Store kessai.Store
	// Now is the clock (design principle 5); time.Now when nil.
	Now func() time.Time
	// Logger receives diagnostics; slog.Default when nil.
	Logger *slog.Logger
	// AfterEvent is called after a transaction that wrote events has
	// committed (typically the job runner's Kick), so deliveries start
	// without waiting for the next outbox poll. It must not block.
	AfterEvent func()
	// Resender queues webhook redeliveries; without it Resend answers
	// KindUnavailable.
	Resender Resender
	// PasswordParams are the argon2id parameters for admin passwords;
	// password.Default when zero. Only tests should set it (to cheap
	// parameters: a default hash takes about 0.2 s, and over a second
	// under the race detector).
	PasswordParams password.Params
	// SettingsChanged, when set, is called after UpdateSettings has stored
	// a shop's new settings (after the write, outside any transaction),
	// with the settings as stored. It runs on the caller's goroutine and
	// must not block; it cannot veto the change. The wiring uses it to
	// return the test clock to real time when a shop leaves the simulator
	// (package testclock), so simulated time never reaches production.
	// It only sees changes made by this process.
	SettingsChanged func(shopID string, s kessai.Settings)
}

// Service implements kessai's use cases. It is safe for concurrent use.
type Service struct {
	store      kessai.Store
	now        func() time.Time
	log        *slog.Logger
	afterEvent func()
	resender   Resender
	pw         password.Params
	// settingsChanged is Config.SettingsChanged.
	settingsChanged func(shopID string, s kessai.Settings)
	// dummyHash is a hash of nothing, verified against when a login
	// names an unknown user, so that answer takes as long as a wrong
	// password (no user enumeration by timing).
	dummyHash func() string
}

// New returns a Service over cfg.Store.
func New(cfg Config) *Service {
	if cfg.Store == nil {
		panic("service: Config.Store is required")
	}
	s := &Service{store: cfg.Store, now: cfg.Now, log: cfg.Logger, afterEvent: cfg.AfterEvent, resender: cfg.Resender,
		pw: cfg.PasswordParams, settingsChanged: cfg.SettingsChanged}
	if s.pw == (password.Params{}) {
		s.pw = password.Default
	}
	s.dummyHash = sync.OnceValue(func() string {
		h, _ := s.pw.Hash(password.Generate(MinAdminPasswordLen))
		return h
	})
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Store returns the store the service works on, for packages (card and
// collection flows) that run their own transactions and then call Emit.
func (s *Service) Store() kessai.Store { return s.store }

// Now returns the service's clock reading, in UTC so stored times compare
// regardless of the host's zone.
func (s *Service) Now() time.Time { return s.now().UTC() }

// Kick tells the job runner that events were committed. Call it after a
// transaction in which Emit was used; calling it spuriously is harmless.
func (s *Service) Kick() {
	if s.afterEvent != nil {
		s.afterEvent()
	}
}

// notFound is the KindNotFound error for a resource, with a stable code
// "<resource>_not_found" so clients can tell an unknown order from an
// unknown payment without parsing messages.
func notFound(resource, ja, en string) *kessai.Error {
	return kessai.Errorf(kessai.KindNotFound, resource+"_not_found", ja, en)
}

// storeErr turns a store error into a kinded error. notFoundErr is used for
// ErrNotFound (nil: treat it as internal, because the caller did not expect
// a missing row). A context cancellation is reported as unavailable rather
// than internal: the client went away or the deadline passed, which is not
// a bug to page anyone about.
func storeErr(err error, notFoundErr *kessai.Error) error {
	if err == nil {
		return nil
	}
	var ke *kessai.Error
	if errors.As(err, &ke) {
		return err
	}
	switch {
	case errors.Is(err, kessai.ErrNotFound) && notFoundErr != nil:
		e := *notFoundErr
		e.Err = err
		return &e
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &kessai.Error{Kind: kessai.KindUnavailable, Code: "request_cancelled",
			Ja: "処理が中断されました。もう一度お試しください。", En: "The request was interrupted. Please try again.", Err: err}
	}
	return kessai.Internal(err)
}

// maxIDLen bounds identifiers accepted from clients before they reach the
// database: real IDs are about 30 characters, and refusing a megabyte "id"
// early keeps it out of queries and logs.
const maxIDLen = 64

// plausibleID reports whether s can be an identifier at all (printable
// ASCII, bounded). Implausible IDs are simply "not found".
func plausibleID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// randomToken returns n random bytes as unpadded base64url. crypto/rand
// never fails on supported platforms (Go 1.24+ aborts the process instead),
// so there is no error to return.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
