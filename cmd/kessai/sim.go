package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kessai/kessai/escott/sim"
)

// simFile is the JSON configuration file of `kessai sim -config`.
type simFile struct {
	Merchants []sim.Merchant `json:"merchants"`
	// TokenTTL is a Go duration, e.g. "20m".
	TokenTTL string `json:"token_ttl"`
	// PublicURL: see -public-url.
	PublicURL string `json:"public_url"`
}

func runSim(args []string) int {
	fs := flag.NewFlagSet("kessai sim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8470", "address to listen on")
	publicURL := fs.String("public-url", "", "base URL browsers use to reach the simulator (default: from the request)")
	configPath := fs.String("config", "", "JSON file with merchants (see docs/simulator.md); default: the demo merchant")
	notifyURL := fs.String("notify-url", "", "payment notification URL of the demo merchant (ignored with -config)")
	useTLS := fs.Bool("tls", false, "serve HTTPS (TLS 1.2 only) with a freshly generated self-signed certificate")
	certOut := fs.String("cert-out", "", "with -tls: write the certificate (PEM) to this file so clients can trust it")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "kessai sim — e-SCOTT Smart gateway simulator / ゲートウェイシミュレーター\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "kessai sim: -log-level: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	cfg := sim.Config{PublicURL: *publicURL, Logger: logger}
	if *configPath != "" {
		fc, err := loadSimFile(*configPath)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kessai sim: %v\n", err)
			return 2
		}
		cfg.Merchants = fc.Merchants
		if fc.PublicURL != "" && cfg.PublicURL == "" {
			cfg.PublicURL = fc.PublicURL
		}
		if fc.TokenTTL != "" {
			d, err := time.ParseDuration(fc.TokenTTL)
			if err != nil {
				fmt.Fprintf(os.Stderr, "kessai sim: token_ttl: %v\n", err)
				return 2
			}
			cfg.TokenTTL = d
		}
	} else {
		m := sim.DemoMerchant
		m.NotifyURL = *notifyURL
		cfg.Merchants = []sim.Merchant{m}
	}

	s, err := sim.New(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kessai sim: %v\n", err)
		return 2
	}
	defer s.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kessai sim: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	scheme := "http"
	if *useTLS {
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		cert, err := sim.GenerateCertificate(host, "localhost", "127.0.0.1", "::1")
		if err != nil {
			fmt.Fprintf(os.Stderr, "kessai sim: certificate: %v\n", err)
			return 1
		}
		if *certOut != "" {
			if err := os.WriteFile(*certOut, cert.PEM, 0o644); err != nil {
				fmt.Fprintf(os.Stderr, "kessai sim: %v\n", err)
				return 1
			}
		}
		srv.TLSConfig = cert.TLSConfig()
		scheme = "https"
	}

	base := scheme + "://" + displayAddr(ln.Addr().String())
	fmt.Printf("e-SCOTT Smart simulator / シミュレーター: %s/\n", base)
	for _, m := range cfg.Merchants {
		fmt.Printf("  MerchantId %s  test password %s  production password %s  TenantId %s\n", m.MerchantID, m.TestPass, m.ProdPass, strings.Join(orDefault(m.TenantIDs, "0001"), ","))
	}
	fmt.Printf("  demo card / デモカード: %s  security code 8888  expiry 12/28\n", sim.DemoCard)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = serveUntilDone(ctx, srv, func() error {
		if *useTLS {
			return srv.ServeTLS(ln, "", "")
		}
		return srv.Serve(ln)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "kessai sim: %v\n", err)
		return 1
	}
	return 0
}

func loadSimFile(path string) (*simFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var fc simFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(fc.Merchants) == 0 {
		return nil, fmt.Errorf("%s: no merchants", path)
	}
	return &fc, nil
}

// displayAddr turns a listen address into one a browser can open.
func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func orDefault(v []string, d string) []string {
	if len(v) == 0 {
		return []string{d}
	}
	return v
}
