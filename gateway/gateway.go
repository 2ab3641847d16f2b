// Package gateway hands out escott clients for a shop's settings: one
// client per set of credentials and environment, all sharing one pooled
// keep-alive TLS 1.2 transport (design §5: the plugins opened a new TLS
// connection per call, which costs far more than the call itself). Every
// call is observed (metrics) and, while the shop's 「ログを保存」 is on, written
// to the diagnostic log already masked (LOG-01, LOG-04).
//
// This is the only place the service builds escott clients, so the
// environment switch (simulator / test / production, design A-13) is
// applied in one place: the simulator is the test protocol at another
// base URL, and production is only ever reached with EnvProduction.
package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// Config configures a Factory. Everything is optional.
type Config struct {
	// SimulatorURL is the base URL of the simulator that shops in the
	// simulator environment call. Without it such shops get
	// KindUnavailable.
	SimulatorURL string
	// HTTPClient sends every call; default a client on
	// escott.NewTransport.
	HTTPClient *http.Client
	// Now and Rand are passed to the clients (tests move the clock).
	Now  func() time.Time
	Rand io.Reader
	// Observe sees every call (metrics.ObserveGateway).
	Observe escott.LogFunc
	// Logger receives the diagnostic log; slog.Default when nil.
	Logger *slog.Logger
}

// Factory builds and caches clients. It is safe for concurrent use.
type Factory struct {
	cfg     Config
	mu      sync.Mutex
	clients map[clientKey]*escott.Client
}

type clientKey struct {
	merchant escott.Merchant
	env      kessai.Env
	log      bool
}

// New returns a Factory.
func New(cfg Config) *Factory {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: escott.NewTransport(escott.TransportOptions{})}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Factory{cfg: cfg, clients: map[clientKey]*escott.Client{}}
}

// SimulatorURL returns the simulator's base URL ("" when none).
func (f *Factory) SimulatorURL() string { return f.cfg.SimulatorURL }

// Card returns the client of the shop's card contract.
func (f *Factory) Card(s *kessai.Settings) (*escott.Client, error) {
	m := s.CardMerchant()
	if m.MerchantID == "" || m.MerchantPass == "" {
		return nil, errNotConfigured("card", "クレジットカード決済", "card payments")
	}
	return f.client(s, m)
}

// Collection returns the client of the shop's collection contract.
func (f *Factory) Collection(s *kessai.Settings) (*escott.Client, error) {
	m := s.CollectionMerchant()
	if m.MerchantID == "" || m.MerchantPass == "" {
		return nil, errNotConfigured("collection", "オンライン収納代行", "collections")
	}
	return f.client(s, m)
}

func errNotConfigured(method, ja, en string) *kessai.Error {
	return kessai.Errorf(kessai.KindUnavailable, method+"_not_configured",
		ja+"の接続情報（マーチャントID・パスワード）が設定されていません。",
		"The gateway credentials for "+en+" are not configured.")
}

func (f *Factory) client(s *kessai.Settings, m escott.Merchant) (*escott.Client, error) {
	key := clientKey{merchant: m, env: s.Environment, log: s.NotifyLog}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clients[key]; ok {
		return c, nil
	}
	base := ""
	if s.Simulated() {
		if f.cfg.SimulatorURL == "" {
			return nil, kessai.Errorf(kessai.KindUnavailable, "simulator_unavailable",
				"シミュレーター環境が選ばれていますが、シミュレーターが起動していません。",
				"The shop runs against the simulator, but no simulator is running.")
		}
		base = f.cfg.SimulatorURL
	}
	logDiag := s.NotifyLog
	env := s.Environment
	c, err := escott.New(escott.Config{
		Merchant: m, Environment: s.EscottEnvironment(), BaseURL: base, HTTPClient: f.cfg.HTTPClient,
		Now: f.cfg.Now, Rand: f.cfg.Rand,
		Log: func(ctx context.Context, e escott.LogEntry) {
			if f.cfg.Observe != nil {
				f.cfg.Observe(ctx, e)
			}
			if logDiag {
				f.diag(ctx, env, e)
			}
		},
	})
	if err != nil {
		return nil, kessai.Internal(err)
	}
	// A changed password leaves the old client unused; the map stays as
	// small as the number of credential changes since start.
	f.clients[key] = c
	return c, nil
}

// diag writes one masked diagnostic line per call (LOG-01).
func (f *Factory) diag(ctx context.Context, env kessai.Env, e escott.LogEntry) {
	level := slog.LevelInfo
	if e.Err != nil || len(e.Codes) == 0 || e.Codes[0] != escott.CodeOK {
		level = slog.LevelWarn
	}
	attrs := []any{"environment", string(env), "operate_id", string(e.Op), "codes", e.Codes,
		"duration_ms", float64(e.Duration.Microseconds()) / 1000, "request", e.Request.Values()}
	if e.Response != nil {
		attrs = append(attrs, "response", e.Response.Values())
	}
	if e.Err != nil {
		attrs = append(attrs, "error", e.Err.Error())
	}
	f.cfg.Logger.Log(ctx, level, "gateway call", attrs...)
}
