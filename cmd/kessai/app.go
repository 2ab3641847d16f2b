package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/jobs"
	"github.com/kessai/kessai/postgres"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/secret"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/sqlite"
	"github.com/kessai/kessai/testclock"
)

// app is an opened installation: keys, database, job runner and service.
// serve, migrate, settings and apikey all open it the same way.
type app struct {
	cfg     *serveConfig
	log     *slog.Logger
	keyring *secret.Keyring
	store   kessai.Store
	runner  *jobs.Runner
	svc     *service.Service
	closers []func() error
	// ping checks the database for /readyz.
	ping func(context.Context) error
	// kind is "sqlite" or "postgres", for the start-up banner.
	kind string
	// payer runs card payments once serve has wired it; the job
	// runner's periodic recovery reads it (nil before serve starts).
	payer atomic.Pointer[cardpay.Payer]
	// collector runs collections, likewise.
	collector atomic.Pointer[cvspay.Collector]
	// renewals is the job runner's Options.Renewals: the renewal engine
	// once serve has built it (it needs the payer, built after the
	// runner).
	renewals renewalsRef
	// clock is the test clock, when the built-in simulator runs (nil
	// otherwise: see package testclock). The service, the job runner,
	// the gateway clients and the simulator all read it.
	clock *testclock.Clock
}

// renewalsRef is the renewal engine as the job runner sees it before and
// after serve sets it. Until then nothing is due; a wake job (queued by
// another instance) fails and is retried by River rather than completing
// without having woken anything.
type renewalsRef struct {
	engine atomic.Pointer[renewal.Engine]
}

var errNoEngine = errors.New("the renewal engine is not running yet")

// Due implements jobs.Renewals.
func (r *renewalsRef) Due(ctx context.Context, limit int) ([]kessai.Subscription, error) {
	e := r.engine.Load()
	if e == nil {
		return nil, nil
	}
	return e.Due(ctx, limit)
}

// Wake implements jobs.Renewals.
func (r *renewalsRef) Wake(ctx context.Context, shopID, id string) error {
	e := r.engine.Load()
	if e == nil {
		return errNoEngine
	}
	return e.Wake(ctx, shopID, id)
}

// cardSaved is cardpay's CardSaved hook: the engine retries a failing
// renewal with the new card. The payer is built before the engine (which
// needs it), so the hook looks the engine up when a card is saved.
func (a *app) cardSaved(ctx context.Context, shopID, customerID string) {
	if e := a.renewals.engine.Load(); e != nil {
		e.CardChanged(ctx, shopID, customerID)
	}
}

// settingsChanged returns the test clock to real time when a shop leaves
// the simulator: simulated time must never reach the SPS test or
// production gateway (package testclock).
func (a *app) settingsChanged(shopID string, s kessai.Settings) {
	if a.clock == nil || s.Simulated() || a.clock.Offset() == 0 {
		return
	}
	a.clock.Reset()
	a.log.Info("test clock reset to real time: the shop no longer uses the simulator",
		"shop", shopID, "environment", s.Environment)
}

// now is the business clock for the service and the job runner: the test
// clock when there is one, else nil (their default, time.Now).
func (a *app) now() func() time.Time {
	if a.clock == nil {
		return nil
	}
	return a.clock.Now
}

// sessionRetention is how long expired checkout sessions are kept.
const sessionRetention = 24 * time.Hour

// recoverPayments is the job runner's periodic recovery over every shop:
// the card flows' sweep (cardpay.Payer.Sweep) and the collections' sweep
// (cvspay.Collector.Sweep: stuck calls, unconfirmed notifications, expiry).
func (a *app) recoverPayments(ctx context.Context) error {
	p, c := a.payer.Load(), a.collector.Load()
	if p == nil && c == nil {
		return nil
	}
	shops, err := a.store.ListShops(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range shops {
		if p != nil {
			if _, err := p.Sweep(ctx, s.ID); err != nil {
				errs = append(errs, fmt.Errorf("shop %s: cards: %w", s.ID, err))
			}
		}
		if c != nil {
			if _, err := c.Sweep(ctx, s.ID); err != nil {
				errs = append(errs, fmt.Errorf("shop %s: collections: %w", s.ID, err))
			}
		}
	}
	// Sessions are kept a day past expiry (a late return then still
	// reads "expired" rather than "unknown checkout"), then deleted:
	// they may hold a card token.
	if _, err := a.store.PurgeCheckoutSessions(ctx, time.Now().Add(-sessionRetention)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// openApp opens the database (migrating it), the job runner (migrating
// River's tables) and the service. It does not start the runner.
func openApp(ctx context.Context, cfg *serveConfig, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	kr, err := secret.LoadKeyring(os.Getenv, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	a.keyring = kr
	if cfg.builtinSim() {
		// Only with the built-in simulator: it shares the clock, and the
		// API refuses to move it for a shop on any other environment.
		// A simulator of its own (-sim-url) keeps its own clock, which
		// kessai cannot move: a test clock here would send it dates it
		// refuses (K05).
		a.clock = testclock.New(time.Now)
	}
	opts := jobs.Options{Logger: log, Now: a.now(), Recover: a.recoverPayments, Renewals: &a.renewals}
	if cfg.DatabaseURL == "" {
		db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "kessai.db"), kr)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		a.closers = append(a.closers, db.Close)
		a.store, a.ping, a.kind = db, db.SQL().PingContext, "sqlite"
		a.runner, err = jobs.NewSQLite(db.SQL(), db, opts)
		if err != nil {
			a.close()
			return nil, err
		}
	} else {
		db, err := postgres.Open(ctx, cfg.DatabaseURL, kr)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		a.closers = append(a.closers, db.Close)
		a.store, a.ping, a.kind = db, db.SQL().PingContext, "postgres"
		pool, err := jobs.OpenPool(ctx, cfg.DatabaseURL)
		if err != nil {
			a.close()
			return nil, fmt.Errorf("postgres pool: %w", err)
		}
		a.closers = append(a.closers, func() error { pool.Close(); return nil })
		a.runner, err = jobs.NewPostgres(pool, db, opts)
		if err != nil {
			a.close()
			return nil, err
		}
	}
	if err := a.runner.Migrate(ctx); err != nil {
		a.close()
		return nil, fmt.Errorf("job queue migration: %w", err)
	}
	a.svc = service.New(service.Config{Store: a.store, Logger: log, Now: a.now(), AfterEvent: a.runner.Kick, Resender: a.runner,
		SettingsChanged: a.settingsChanged})
	return a, nil
}

// close releases everything in reverse order of opening.
func (a *app) close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// newLogger builds the process logger from the configuration.
func newLogger(cfg *serveConfig) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
}
