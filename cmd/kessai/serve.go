package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/kessai/kessai"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/console"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/hosted"
	"github.com/kessai/kessai/metrics"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/service"
)

func runServe(args []string) int {
	cfg, _, err := loadServeConfig("serve", args, os.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "kessai serve: %v\n", err)
		return 2
	}
	log, err := newLogger(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kessai serve: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log, os.Stdout, nil); err != nil {
		log.Error("kessai serve stopped", "err", err)
		return 1
	}
	return 0
}

// serve runs the service until ctx is done. ready, when not nil, receives
// the listening addresses once both listeners are up (for tests).
func serve(ctx context.Context, cfg *serveConfig, log *slog.Logger, out io.Writer, ready chan<- serveAddrs) error {
	started := time.Now()
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	publicURL := strings.TrimRight(cfg.PublicURL, "/")
	if publicURL == "" {
		publicURL = "http://" + displayAddr(ln.Addr().String())
	}

	// The built-in simulator plays the gateway on its own listener, with
	// the real gateway's paths; its notifications come back to kessai's
	// receiver like the real gateway's would.
	var simulator *sim.Server
	// simURL is the simulator the shop's "simulator" environment calls:
	// the built-in one, or one already running (-sim-url), e.g. `kessai
	// sim` kept alive while kessai itself is restarted (chaostest).
	simURL := cfg.SimURL
	if cfg.builtinSim() {
		sln, err := net.Listen("tcp", cfg.SimAddr)
		if err != nil {
			return fmt.Errorf("simulator: %w", err)
		}
		simURL = "http://" + displayAddr(sln.Addr().String())
		m := sim.DemoMerchant
		m.NotifyURL = publicURL + "/escott/notify"
		// The simulator reads the test clock (a.clock exists whenever
		// the simulator runs), so it accepts the dates kessai sends
		// after the clock moved; its own clock control adds to it.
		memberLife := cfg.SimMemberLifetime
		if memberLife == 0 {
			memberLife = -1 // the simulator's "never"
		}
		simulator, err = sim.New(sim.Config{Merchants: []sim.Merchant{m}, PublicURL: simURL, Now: a.clock.Now, TestMemberLifetime: memberLife,
			Logger: log.With("component", "sim")})
		if err != nil {
			sln.Close()
			return err
		}
		defer simulator.Close()
		simSrv := &http.Server{Handler: simulator, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() { _ = simSrv.Serve(sln) }()
		defer simSrv.Close()
	}

	keys, err := a.svc.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	// Only a shop created just now gets the demo merchant: an existing
	// shop (even one that was only missing its first admin user) keeps
	// the settings its operator chose.
	if keys != nil && keys.ShopCreated && simURL != "" {
		if err := useDemoMerchant(ctx, a.svc, keys.ShopID); err != nil {
			return fmt.Errorf("demo settings: %w", err)
		}
	}

	m := metrics.New(metrics.Gauges{WebhookBacklog: a.runner.Backlog, JobQueueDepth: a.runner.QueueDepth})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	var jobsRunning atomic.Bool
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		pctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := a.ping(pctx); err != nil || !jobsRunning.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", m.Handler())
	// Gateway calls date themselves (TransactionDate) by the test clock,
	// as the simulator expects; its offset is zero whenever the shop is
	// on another environment (a.settingsChanged).
	gw := gateway.New(gateway.Config{SimulatorURL: simURL, Now: a.now(), Observe: m.ObserveGateway, Logger: log.With("component", "gateway")})
	payer := cardpay.New(cardpay.Config{Service: a.svc, Gateways: gw, ReturnURL: publicURL + "/escott/notify",
		CardSaved: a.cardSaved, StaleAfter: cfg.StaleAfter, Logger: log.With("component", "cardpay")})
	a.payer.Store(payer)
	// The renewal engine's due subscriptions are woken by the job runner
	// (Options.Renewals, given at openApp), from the moment it starts.
	engine := renewal.New(renewal.Config{Service: a.svc, Cards: payer, Logger: log.With("component", "renewal")})
	a.renewals.engine.Store(engine)
	collector := cvspay.New(cvspay.Config{Service: a.svc, Gateways: gw, StaleAfter: cfg.StaleAfter, Logger: log.With("component", "cvspay")})
	a.collector.Store(collector)
	// The hosted pages (checkout, my cards) sign links and forms with a
	// key derived from the master key, so every instance sharing the
	// database and the master key accepts them.
	pages := hosted.New(hosted.Config{ClientIP: hosted.ProxyClientIP(cfg.trustedProxies), Service: a.svc, Cards: payer, Collections: collector, PublicURL: publicURL, SimulatorURL: simURL,
		Keys: hosted.DerivedKeys(a.keyring.DeriveKey("kessai hosted pages v1")), Logger: log.With("component", "hosted")})
	for _, p := range hosted.Patterns {
		mux.Handle(p, pages)
	}
	mux.Handle(console.Pattern, console.New(console.Config{Service: a.svc, Cards: payer, Collections: collector,
		Subscriptions: engine, ShopID: kessai.DefaultShopID, PublicURL: publicURL, Logger: log.With("component", "console")}))
	mux.Handle("/", api.New(api.Config{Service: a.svc, Logger: log, PublicURL: publicURL, Cards: payer, Collections: collector,
		MyCardsLink: pages.MyCardsLink, Subscriptions: engine, TestClock: a.clock,
		Notifications: api.NotificationHandlers{ThreeDS: payer.ThreeDSReturn, ThreeDSMember: payer.ThreeDSMemberReturn, Link: payer.LinkReturn,
			Collection: collector.Notify}}))
	if cfg.Demo == "on" {
		// The shop calls the API through kessai's own listener, as an
		// external shop would (and never through the public URL, which
		// may be a proxy this host cannot reach). A shop already on the
		// production gateway gets no demo pages at all.
		set, _, err := a.svc.GetSettings(ctx, kessai.DefaultShopID)
		if err != nil {
			return fmt.Errorf("demo shop: %w", err)
		}
		if set.Environment == kessai.EnvProduction {
			log.Info("demo shop off: the shop uses the production gateway")
			cfg.Demo = "off"
		} else {
			shop, err := demoShop(ctx, a.svc, cfg.DataDir, publicURL, "http://"+displayAddr(ln.Addr().String()), log.With("component", "demoshop"))
			if err != nil {
				return fmt.Errorf("demo shop: %w", err)
			}
			mux.Handle(demoPath, shop)
		}
	}
	srv := &http.Server{
		Handler:           m.Middleware(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	if err := a.runner.Start(ctx); err != nil {
		return fmt.Errorf("job runner: %w", err)
	}
	jobsRunning.Store(true)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	banner(out, a, publicURL, simURL, keys, time.Since(started))
	if ready != nil {
		ready <- serveAddrs{API: publicURL, Sim: simURL}
	}

	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests and jobs", "timeout", cfg.Shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown)
	defer cancel()
	jobsRunning.Store(false)
	herr := srv.Shutdown(sctx)
	jerr := a.runner.Stop(sctx)
	return errors.Join(herr, jerr)
}

// serveAddrs are the base URLs a started server answers on.
type serveAddrs struct{ API, Sim string }

// useDemoMerchant fills a new shop's settings with the simulator's demo
// merchant (the built-in one's, and `kessai sim`'s without -config) and
// enables both payment methods, so the zero-configuration start can take
// payments at once.
func useDemoMerchant(ctx context.Context, svc *service.Service, shopID string) error {
	d := sim.DemoMerchant
	patch := map[string]any{
		"environment": "simulator",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
		},
		"collection": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
		},
	}
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, _, err = svc.UpdateSettings(ctx, shopID, b, service.AnyVersion)
	return err
}

// banner prints where everything is; API keys and the first admin
// password only on the first start (they are stored hashed and cannot be
// shown again).
func banner(out io.Writer, a *app, publicURL, simURL string, keys *service.BootstrapKeys, took time.Duration) {
	fmt.Fprintf(out, "kessai is running / kessai を起動しました (%s, started in %s)\n", a.kind, took.Round(time.Millisecond))
	fmt.Fprintf(out, "  API:        %s/v1/   (OpenAPI: docs/openapi.yaml)\n", publicURL)
	fmt.Fprintf(out, "  gateway notifications / 入金結果通知URL: %s/escott/notify  (also %s/?wc-api=wc_sonypayment)\n", publicURL, publicURL)
	fmt.Fprintf(out, "  admin console / 管理画面: %s/admin/\n", publicURL)
	fmt.Fprintf(out, "  health:     %s/healthz  %s/readyz  metrics: %s/metrics\n", publicURL, publicURL, publicURL)
	if a.cfg.Demo == "on" {
		fmt.Fprintf(out, "  demo shop / デモショップ: %s%s\n", publicURL, demoPath)
	}
	if simURL != "" {
		fmt.Fprintf(out, "  e-SCOTT simulator / シミュレーター: %s/  (test card 4123000000000300, 8888, 12/28)\n", simURL)
	}
	if a.kind == "sqlite" {
		fmt.Fprintf(out, "  data:       %s\n", a.cfg.DataDir)
	}
	printCredentials(out, keys, publicURL)
}

// printCredentials prints what Bootstrap created, if anything: the API
// keys and the first admin user's login. publicURL, when known, makes the
// curl example.
func printCredentials(out io.Writer, keys *service.BootstrapKeys, publicURL string) {
	if keys == nil {
		return
	}
	if keys.SecretKey != "" {
		fmt.Fprintf(out, "\nFirst start: API keys of shop %s — shown only now, keep them safe / 初回のみ表示されます:\n", keys.ShopID)
		fmt.Fprintf(out, "  secret key (server calls):      %s\n", keys.SecretKey)
		fmt.Fprintf(out, "  publishable key (browser use):  %s\n", keys.PublishableKey)
		if publicURL != "" {
			fmt.Fprintf(out, "  try: curl -H 'Authorization: Bearer %s' %s/v1/orders\n", keys.SecretKey, publicURL)
		}
	}
	if keys.AdminPassword != "" {
		fmt.Fprintf(out, "\nFirst admin user of the admin console — shown only now / 管理ユーザー（初回のみ表示されます）:\n")
		fmt.Fprintf(out, "  login / ログイン名:     %s\n", keys.AdminEmail)
		fmt.Fprintf(out, "  password / パスワード:  %s\n", keys.AdminPassword)
		fmt.Fprintf(out, "  (reset with / 再設定: kessai admin set-password %s)\n", keys.AdminEmail)
	}
}
