// Package demoshop is a small Japanese storefront that takes its payments
// through kessai, the way any external shop would: over kessai's JSON API
// with a secret key, never through kessai's internals. It is the
// equivalent of a plugin vendor's public demo site, and with kessai's
// built-in simulator it runs entirely offline.
//
// What it shows:
//
//   - products with prices including tax, some of them virtual (digital
//     goods and a lesson), whose order lines carry kessai's "virtual" flag;
//   - a cart in a signed cookie; demo customers who log in (their
//     passwords are on the login page) and guest checkout;
//   - checkout: POST /v1/orders with the items, the customer id, the
//     billing identity and a return URL, then a redirect to the order's
//     checkout_url, kessai's hosted payment page;
//   - the thank-you page, which reads the order back from the API and
//     never trusts the query string the browser came back with;
//   - order history (GET /v1/orders?customer_id=…) and a link to kessai's
//     "my cards" page for logged-in customers;
//   - a webhook endpoint verified with package webhook, and an "イベント"
//     page listing what arrived.
//
// Every page is server-rendered from embedded templates and styles, with
// a strict Content-Security-Policy and no script at all.
package demoshop

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// Config configures the demo shop. APIBaseURL, APIKey and PublicURL are
// required.
type Config struct {
	// APIBaseURL is where the shop's backend reaches kessai's API, e.g.
	// "http://127.0.0.1:8080" (without /v1).
	APIBaseURL string
	// APIKey is a secret key (sk_…) of the shop in kessai.
	APIKey string
	// WebhookSecret is the signing secret (whsec_…) of the webhook
	// endpoint kessai delivers the shop's events to (PublicURL +
	// "/webhook"). Without it the endpoint refuses every delivery.
	WebhookSecret string
	// PublicURL is where shoppers reach the demo shop, e.g.
	// "http://127.0.0.1:8080/demo". Its path is the prefix the handler
	// serves under (mount the handler there without stripping it), and it
	// makes the absolute URLs kessai sends browsers back to.
	PublicURL string
	// Logger receives the shop's diagnostics; slog.Default when nil.
	Logger *slog.Logger
	// HTTPClient calls the API; a client with a 30-second timeout when
	// nil.
	HTTPClient *http.Client
}

// Paths under PublicURL's path.
const (
	pathProducts = "/products/"
	pathCart     = "/cart"
	pathLogin    = "/login"
	pathLogout   = "/logout"
	pathCheckout = "/checkout"
	pathThanks   = "/thanks"
	pathAccount  = "/account"
	pathMyCards  = "/account/cards"
	pathEvents   = "/events"
	pathWebhook  = "/webhook"
	pathStatic   = "/static/"
)

// apiTimeout bounds each API call made while a shopper waits.
const apiTimeout = 20 * time.Second

//go:embed templates/*.html static/*
var assets embed.FS

// shop is the handler New returns.
type shop struct {
	log     *slog.Logger
	api     *client
	public  string // PublicURL without a trailing slash
	base    string // PublicURL's path without a trailing slash ("" at the root)
	secrets [][]byte
	cookies *cookies
	pages   map[string]*pageTemplate
	events  *eventLog
	mux     *http.ServeMux
	now     func() time.Time

	// csp is the Content-Security-Policy of every answer (see New).
	csp string
	// redirectOrigins are the origins the checkout form may be
	// redirected to (the page's form-action, which browsers apply to the
	// redirect after a form's POST as well).
	redirectOrigins []string

	// env is the shop's gateway environment as last read from the API,
	// until envUntil: the demo refuses to take orders in production.
	envMu    sync.Mutex
	env      string
	envUntil time.Time
}

// New returns the demo shop's handler. It makes no network call: the API
// is first called when a shopper needs it.
func New(cfg Config) (http.Handler, error) {
	api, err := parseBaseURL("APIBaseURL", cfg.APIBaseURL)
	if err != nil {
		return nil, err
	}
	pub, err := parseBaseURL("PublicURL", cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.APIKey == "":
		return nil, errors.New("demoshop: APIKey is required")
	case strings.HasPrefix(cfg.APIKey, "pk_"):
		// A publishable key may only ping: fail at start, not at the
		// first checkout.
		return nil, errors.New("demoshop: APIKey must be a secret key (sk_…), not a publishable one")
	}
	s := &shop{
		log:    cfg.Logger,
		api:    &client{base: strings.TrimRight(api.String(), "/"), key: cfg.APIKey, hc: cfg.HTTPClient},
		public: strings.TrimRight(pub.String(), "/"),
		base:   strings.TrimRight(pub.Path, "/"),
		events: &eventLog{},
		now:    time.Now,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.api.hc == nil {
		s.api.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.WebhookSecret != "" {
		s.secrets = [][]byte{[]byte(cfg.WebhookSecret)}
	}
	// The cookie key is derived from the API key rather than configured:
	// one secret less to manage, stable across restarts with the same
	// key, and the HMAC reveals nothing of the key itself.
	m := hmac.New(sha256.New, []byte(cfg.APIKey))
	m.Write([]byte("kessai demoshop cookies v1"))
	cookiePath := s.base + "/"
	s.cookies = &cookies{key: m.Sum(nil), path: cookiePath, secure: pub.Scheme == "https", now: s.now}
	if s.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	// Everything from the shop's own origin, no script at all (there is
	// none), no framing, and forms that lead only to the shop and to
	// kessai: the checkout form's answer is a redirect to the order's
	// checkout_url, normally on kessai's origin (or on the shop's, when
	// kessai serves both).
	s.redirectOrigins = []string{origin(pub)}
	if o := origin(api); o != origin(pub) {
		s.redirectOrigins = append(s.redirectOrigins, o)
	}
	s.csp = "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
	if len(s.redirectOrigins) > 1 {
		s.csp += " " + s.redirectOrigins[1]
	}
	s.routes()
	return s, nil
}

// parseBaseURL checks an absolute http(s) URL without query or fragment.
func parseBaseURL(name, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("demoshop: %s is required", name)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("demoshop: %s must be an absolute http(s) URL without query, fragment or user info: %q", name, raw)
	}
	return u, nil
}

// origin is scheme://host of u.
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

func (s *shop) routes() {
	s.mux = http.NewServeMux()
	b := s.base
	s.mux.HandleFunc("GET "+b+"/{$}", s.home)
	s.mux.HandleFunc("GET "+b+pathProducts+"{id}", s.productPage)
	s.mux.HandleFunc("GET "+b+pathCart, s.cartPage)
	s.mux.HandleFunc("POST "+b+pathCart+"/add", s.cartAdd)
	s.mux.HandleFunc("POST "+b+pathCart+"/update", s.cartUpdate)
	s.mux.HandleFunc("GET "+b+pathLogin, s.loginPage)
	s.mux.HandleFunc("POST "+b+pathLogin, s.login)
	s.mux.HandleFunc("POST "+b+pathLogout, s.logout)
	s.mux.HandleFunc("GET "+b+pathCheckout, s.checkoutPage)
	s.mux.HandleFunc("POST "+b+pathCheckout, s.checkout)
	s.mux.HandleFunc("GET "+b+pathThanks, s.thanks)
	s.mux.HandleFunc("GET "+b+pathAccount, s.account)
	s.mux.HandleFunc("GET "+b+pathMyCards, s.myCards)
	s.mux.HandleFunc("GET "+b+pathEvents, s.eventsPage)
	s.mux.HandleFunc("POST "+b+pathWebhook, s.webhookHandler)
	s.mux.HandleFunc("GET "+b+pathStatic+"{name}", s.staticFile)
	if b != "" {
		s.mux.HandleFunc(b+"/", s.notFound)
	} else {
		s.mux.HandleFunc("/", s.notFound)
	}
}

// ServeHTTP sets the headers every answer shares and routes.
func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// The shop's URLs carry order ids; other sites (the gateway's pages
	// included) have no use for them.
	h.Set("Referrer-Policy", "same-origin")
	s.mux.ServeHTTP(w, r)
}

// path is an absolute path of the shop, for links and redirects.
func (s *shop) path(p string) string { return s.base + p }

// staticFile serves an embedded asset by name (no directory listings).
// Assets change only with the binary; an hour of caching is plenty for
// a demo and short enough for a new version to show up.
func (s *shop) staticFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, err := assets.ReadFile("static/" + name)
	if err != nil || strings.HasPrefix(name, ".") {
		s.notFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
