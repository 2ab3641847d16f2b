package main

import (
	"context"
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

	"github.com/kessai/kessai/demoshop"
)

// runDemo runs the demo shop on its own, against any kessai it reaches
// over HTTP: the shop a plugin vendor would put online, on another
// origin than kessai, exactly as a third-party shop sees the API.
func runDemo(args []string) int {
	fs := flag.NewFlagSet("kessai demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "address the demo shop listens on")
	publicURL := fs.String("public-url", "", "URL shoppers reach the shop at, with the path it is served under (default http://<addr>)")
	apiURL := fs.String("api", "http://127.0.0.1:8080", "kessai's base URL (without /v1)")
	secret := fs.String("webhook-secret", "", "signing secret of the shop's webhook endpoint (env KESSAI_WEBHOOK_SECRET); empty: register <public-url>/webhook through the API")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "kessai demo — the demo shop against a running kessai / デモショップ\n\nThe secret API key is read from KESSAI_API_KEY.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *secret == "" {
		*secret = os.Getenv("KESSAI_WEBHOOK_SECRET")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kessai demo: %v\n", err)
		return 1
	}
	defer ln.Close()
	if *publicURL == "" {
		*publicURL = "http://" + displayAddr(ln.Addr().String())
	}
	cfg := demoshop.Config{APIBaseURL: *apiURL, APIKey: os.Getenv("KESSAI_API_KEY"), WebhookSecret: *secret,
		PublicURL: strings.TrimRight(*publicURL, "/"), Logger: log}
	if cfg.WebhookSecret == "" {
		if cfg.WebhookSecret, err = demoshop.RegisterWebhook(ctx, cfg); err != nil {
			fmt.Fprintf(os.Stderr, "kessai demo: %v\n", err)
			return 1
		}
	}
	shop, err := demoshop.New(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kessai demo: %v\n", err)
		return 2
	}
	srv := &http.Server{Handler: shop, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	fmt.Printf("demo shop / デモショップ: %s/  (kessai: %s)\n", cfg.PublicURL, cfg.APIBaseURL)
	if err := serveUntilDone(ctx, srv, func() error { return srv.Serve(ln) }); err != nil {
		log.Error("kessai demo stopped", "err", err)
		return 1
	}
	return 0
}
