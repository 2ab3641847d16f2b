// Package sim is a stateful simulator of the e-SCOTT Smart gateway. It
// speaks the same wire protocol as the real gateway on the same paths —
// server calls (E1–E4), the 3-D Secure page (E5), the hosted card page
// (E6), the token script (E7), the collection agent's page (E8) and
// payment notifications — so a merchant system runs unchanged against it,
// the test environment or production, with only the base URL switched.
//
// State is kept in memory: tokens, card transactions with their state
// machine, card members, collections and 3-D Secure results. A control API
// under /_sim/ (and the matching Go methods) injects faults, moves the
// simulator's clock, triggers payments and notifications and lists state
// for assertions. Where the real gateway's behaviour is unknown the
// simulator makes a documented choice; docs/simulator.md lists them.
package sim

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kessai/kessai/escott"
)

// Merchant is one merchant contract known to the simulator.
type Merchant struct {
	MerchantID string `json:"merchant_id"`
	// TestPass and ProdPass are the merchant passwords of the two
	// environments; the one a call uses selects the environment.
	TestPass string `json:"test_pass"`
	ProdPass string `json:"prod_pass"`
	// TenantIDs are the store codes (店舗コード); default ["0001"].
	TenantIDs []string `json:"tenant_ids"`
	// TokenAuthCode is the k_TokenNinsyoCode of the token script.
	TokenAuthCode string `json:"token_auth_code"`
	// AESKey and AESIV (16 characters each) encrypt the E5/E6 hand-offs.
	AESKey string `json:"aes_key"`
	AESIV  string `json:"aes_iv"`
	// NotifyURL receives payment notifications (入金結果通知).
	NotifyURL string `json:"notify_url"`
	// Contract options; a call for a disabled one answers K06 (K68 for
	// members).
	DisableThreeDS    bool `json:"disable_3ds"`
	DisableMembers    bool `json:"disable_members"`
	DisableCollection bool `json:"disable_collection"`
	DisableLink       bool `json:"disable_link"`
}

// DemoMerchant is the merchant the simulator knows when configured with
// none. kessai's zero-configuration settings use the same values.
var DemoMerchant = Merchant{
	MerchantID:    "030000001",
	TestPass:      "demoTestPass01",
	ProdPass:      "demoProdPass01",
	TenantIDs:     []string{"0001"},
	TokenAuthCode: "DEMOTOKENCODE001",
	AESKey:        "DEMOAESKEY000001",
	AESIV:         "DEMOAESIV0000001",
}

// Config configures a simulator.
type Config struct {
	Merchants []Merchant
	// PublicURL is the base URL browsers use to reach the simulator (for
	// links in pages and in the token script), e.g. http://127.0.0.1:8470.
	// Empty: derived from each request's Host.
	PublicURL string
	// TokenTTL is how long an unused token stays valid [SIM]; default 20m.
	TokenTTL time.Duration
	// NotifyRetry is the delay schedule between notification attempts
	// while the merchant does not answer 200 [SIM]; default 10s, 30s, 1m,
	// 5m, 15m, 1h, then hourly up to 24 attempts.
	NotifyRetry []time.Duration
	// HTTPClient sends notifications; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger receives the simulator's own log lines; default discards.
	Logger *slog.Logger
	// Now is the real clock the simulator's clock is offset from; default
	// time.Now.
	Now func() time.Time
	// TestMemberLifetime is how long a card member registered on the test
	// environment stays usable; afterwards it answers K71 as if unknown,
	// like the real test environment's members that "lose validity after
	// about two months" [MANUAL]. Default 60 days [SIM]; negative: never.
	// Production members never expire.
	TestMemberLifetime time.Duration
	// MaxConcurrent caps the E1–E4 calls served at once, as a real
	// gateway's capacity does [SIM]: calls beyond it wait in a
	// first-come, first-served queue, holding their connection, and are
	// served when a slot frees (limit.go). Injected latency is spent
	// inside the slot, so with a latency fault of L the simulator
	// completes at most MaxConcurrent ÷ L calls per second. 0 means no
	// cap; CallStats counts the load either way.
	MaxConcurrent int
}

// Server is a running simulator. It is an http.Handler.
type Server struct {
	cfg       Config
	log       *slog.Logger
	mux       *http.ServeMux
	merchants map[string]*merchantEntry

	mu     sync.Mutex // guards everything below and the state inside merchants
	offset time.Duration
	seq    uint64 // TransactionId sequence
	faults []*Fault

	notifier *notifier
	browser  *browserState // sessions of the E5/E6 pages (browser.go)

	limit *limiter // the E1–E4 concurrency cap and load counters (limit.go)
}

// merchantEntry is a configured merchant with its per-environment state.
type merchantEntry struct {
	Merchant
	cipher *escott.Cipher
	state  [2]*merchantState // by env

	// passFailures counts consecutive wrong MerchantPass values; at
	// merchantLockFailures the merchant is locked (KG8) until lockedUntil
	// on the simulator clock [SIM]. Guarded by Server.mu.
	passFailures int
	lockedUntil  time.Time
}

// New validates the configuration and builds a simulator. Call Close to
// stop the notification sender.
func New(cfg Config) (*Server, error) {
	if len(cfg.Merchants) == 0 {
		cfg.Merchants = []Merchant{DemoMerchant}
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 20 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.NotifyRetry == nil {
		cfg.NotifyRetry = defaultNotifyRetry()
	}
	if cfg.MaxConcurrent < 0 {
		return nil, fmt.Errorf("sim: MaxConcurrent %d is negative (0 means no cap)", cfg.MaxConcurrent)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, merchants: map[string]*merchantEntry{}, limit: newLimiter(cfg.MaxConcurrent)}
	for _, m := range cfg.Merchants {
		if err := s.addMerchant(m); err != nil {
			return nil, err
		}
	}
	s.notifier = newNotifier(s)
	s.mux = http.NewServeMux()
	s.routesServer(s.mux)
	s.routesLimit(s.mux)
	s.routesBrowser(s.mux)
	return s, nil
}

func (s *Server) addMerchant(m Merchant) error {
	if m.MerchantID == "" || m.TestPass == "" || m.ProdPass == "" {
		return fmt.Errorf("sim: merchant needs merchant_id, test_pass and prod_pass")
	}
	if m.TestPass == m.ProdPass {
		return fmt.Errorf("sim: merchant %s: test and production passwords must differ", m.MerchantID)
	}
	if _, dup := s.merchants[m.MerchantID]; dup {
		return fmt.Errorf("sim: merchant %s configured twice", m.MerchantID)
	}
	if len(m.TenantIDs) == 0 {
		m.TenantIDs = []string{"0001"}
	}
	c, err := escott.NewCipher(m.AESKey, m.AESIV)
	if err != nil {
		return fmt.Errorf("sim: merchant %s: %w", m.MerchantID, err)
	}
	s.merchants[m.MerchantID] = &merchantEntry{Merchant: m, cipher: c, state: [2]*merchantState{newMerchantState(), newMerchantState()}}
	return nil
}

// ServeHTTP serves every surface of the simulator.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops background delivery of notifications.
func (s *Server) Close() { s.notifier.close() }

// now is the simulator's clock: real time plus the offset moved by the
// control API.
func (s *Server) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.cfg.Now().Add(s.offset) }

// Now returns the simulator's current time.
func (s *Server) Now() time.Time { return s.now() }

// Advance moves the simulator's clock forward (or back, for a negative d).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// nextTransactionIDLocked issues a fresh 13-digit TransactionId [SIM].
func (s *Server) nextTransactionIDLocked() string {
	s.seq++
	return fmt.Sprintf("%013d", 1000000000000+s.seq)
}
