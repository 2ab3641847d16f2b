// Package hosted serves the pages a shopper sees on kessai's own origin:
//
//   - the hosted checkout an order's checkout_url points at
//     (GET/POST /checkout/{order id}), with the thank-you page it turns into
//     once the order is paid;
//   - the result page the gateway receiver can send a browser to when a
//     round trip has no return URL (GET /hosted/result);
//   - the "my cards" page (/hosted/my-cards), reached through a short-lived
//     link the shop's backend has kessai sign for a signed-in customer
//     (Handler.MyCardsLink);
//   - their scripts and styles (/hosted/assets/…), embedded in the binary.
//
// What the pages promise, by construction:
//
//   - Card data never reaches kessai (CARD-02, design A-10). The card inputs
//     have no name attribute; the gateway's own token script (E7, loaded from
//     the gateway's origin) turns them into a one-time token, and only the
//     token and the first six digits (for the installment rules) are posted.
//     A POST that carries anything that looks like card data is refused
//     before it is parsed any further, and nothing of it is logged.
//   - Every page sends a strict Content-Security-Policy: scripts, styles
//     and images from kessai's origin only, plus the gateway's origin where
//     the token script runs (script-src, connect-src) or where a form or a
//     redirect leads (form-action). No inline script or style anywhere.
//   - Every POST carries a CSRF token bound to the browser (a cookie nonce)
//     and to what the page acts on (the order, or the customer), signed
//     with the shop's key.
//   - Japanese by default, English with ?lang=en (remembered in a cookie).
//
// The payment work itself is cardpay's (cards) and cvspay's (online
// payment collection): this package builds their inputs from the form and
// turns their results into pages.
package hosted

import (
	"context"
	"crypto/rand"
	"errors"
	"github.com/kessai/kessai/internal/yen"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/service"
)

// Paths the handler serves. Mount it on every pattern of Patterns.
const (
	// CheckoutPrefix + order id is an order's checkout_url (see package
	// api, orderView).
	CheckoutPrefix = "/checkout/"
	// Prefix holds every other page and the assets.
	Prefix = "/hosted/"
	// ResultPath is where a browser coming back from the gateway lands
	// when its round trip had no return URL; the query is the receiver's
	// (status, order_id, payment_id, customer_id, error).
	ResultPath = "/hosted/result"
	// MyCardsPath is the "my cards" page.
	MyCardsPath = "/hosted/my-cards"
	// AssetsPath serves the embedded scripts and styles.
	AssetsPath = "/hosted/assets/"
)

// Patterns are the http.ServeMux patterns the handler answers.
var Patterns = []string{CheckoutPrefix, Prefix}

// Defaults of Config.
const (
	// DefaultRateLimit POSTs per client and DefaultRateWindow: a shopper
	// who mistypes a card a few times stays far below; a script trying
	// card numbers (card testing, design §4) is slowed to a crawl.
	DefaultRateLimit  = 30
	DefaultRateWindow = 10 * time.Minute
)

// Config wires a Handler. Service is required.
type Config struct {
	Service *service.Service
	// Cards runs card payments and saved cards. Without it the card
	// method is not offered and the my-cards page says so.
	Cards *cardpay.Payer
	// Collections runs online payment collections (コンビニ・Pay-easy・
	// 電子マネー). Without it the collection method is not offered, and
	// a thank-you page of an order already registered through the API
	// shows no payment link.
	Collections *cvspay.Collector
	// PublicURL is the base URL shoppers reach kessai at, the same as
	// api.Config.PublicURL (e.g. "https://pay.example.jp"): return URLs
	// of gateway round trips and my-cards links are built from it. When
	// empty the request's own host is used (development only).
	PublicURL string
	// SimulatorURL is the built-in simulator's base URL as the shopper's
	// browser reaches it; shops in the simulator environment load the
	// token script from there. Empty: such shops get no card form.
	SimulatorURL string
	// ShopID is the shop whose orders /checkout/{id} serves: the URL
	// carries no shop, and this version runs one. Default
	// kessai.DefaultShopID.
	ShopID string
	// Keys gives each shop's signing key (my-cards links, CSRF tokens).
	// Every instance behind one load balancer needs the same keys. nil:
	// a random key for this process only, which is fine for a single
	// instance and means links and open forms do not survive a restart.
	Keys KeySource
	// Logger receives diagnostics; slog.Default when nil.
	Logger *slog.Logger
	// ClientIP names the client of a request for rate limiting. The
	// default is the connection's address: behind a proxy or load
	// balancer set it to read the proxy's header, or every shopper
	// shares one allowance.
	ClientIP func(*http.Request) string
	// RateLimit is the number of POSTs one client may send per
	// RateWindow (defaults above); negative turns the limit off.
	RateLimit  int
	RateWindow time.Duration
}

// Handler serves the hosted pages. It is safe for concurrent use.
type Handler struct {
	svc       *service.Service
	store     kessai.Store
	cards     *cardpay.Payer
	cols      *cvspay.Collector
	publicURL string
	simURL    string
	shopID    string
	keys      KeySource
	log       *slog.Logger
	clientIP  func(*http.Request) string
	limit     *limiter
	methods   []method
	mux       *http.ServeMux
}

// New returns the hosted pages handler.
func New(cfg Config) *Handler {
	if cfg.Service == nil {
		panic("hosted: Config.Service is required")
	}
	h := &Handler{
		svc:       cfg.Service,
		store:     cfg.Service.Store(),
		cards:     cfg.Cards,
		cols:      cfg.Collections,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		simURL:    strings.TrimRight(cfg.SimulatorURL, "/"),
		shopID:    cfg.ShopID,
		keys:      cfg.Keys,
		log:       cfg.Logger,
		clientIP:  cfg.ClientIP,
		mux:       http.NewServeMux(),
	}
	if h.shopID == "" {
		h.shopID = kessai.DefaultShopID
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.keys == nil {
		master := make([]byte, 32)
		if _, err := rand.Read(master); err != nil {
			panic("hosted: crypto/rand failed: " + err.Error())
		}
		h.keys = DerivedKeys(master)
		h.log.Info("hosted: no shared signing key configured; my-cards links and open checkout forms are valid for this process only")
	}
	if h.clientIP == nil {
		h.clientIP = remoteIP
	}
	if cfg.RateLimit >= 0 {
		n, win := cfg.RateLimit, cfg.RateWindow
		if n == 0 {
			n = DefaultRateLimit
		}
		if win <= 0 {
			win = DefaultRateWindow
		}
		h.limit = newLimiter(n, win, time.Now)
	}
	// The methods in the order the page lists them (the first offered
	// one is pre-selected).
	h.methods = []method{&cardMethod{h: h}, &collectionMethod{h: h}}
	h.routes()
	return h
}

func (h *Handler) routes() {
	h.mux.HandleFunc("GET "+CheckoutPrefix+"{id}", h.getCheckout)
	h.mux.HandleFunc("POST "+CheckoutPrefix+"{id}", h.postCheckout)
	h.mux.HandleFunc("GET "+ResultPath, h.getResult)
	h.mux.HandleFunc("GET "+MyCardsPath, h.getMyCards)
	h.mux.HandleFunc("POST "+MyCardsPath, h.postMyCards)
	h.mux.HandleFunc("GET "+AssetsPath+"{name}", h.serveAsset)
	h.mux.HandleFunc("/", h.notFound)
}

// ServeHTTP implements http.Handler. Before any route runs, a request
// whose query or (for a POST) form carries card data is refused: such a
// request must never be processed, echoed or logged. (A path is not
// refused, since an order id may by chance hold 13 digits in a row; it is
// never echoed or logged when it does, see refuseCardData and
// langSwitchURL.)
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hasCardData(r.URL.Query()) {
		h.refuseCardData(w, r, len(r.URL.Query()))
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if h.limit != nil && !h.limit.allow(h.clientIP(r)) {
			h.renderMessage(w, r, http.StatusTooManyRequests, langOf(r), messagePage{
				Heading: "rate_limited_title", Text: "rate_limited"})
			return
		}
		if err := r.ParseForm(); err != nil {
			h.renderMessage(w, r, http.StatusBadRequest, langOf(r), messagePage{Heading: "bad_request_title", Text: "bad_request"})
			return
		}
		if hasCardData(r.PostForm) {
			h.refuseCardData(w, r, len(r.PostForm))
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// maxFormBytes bounds a form body: the largest legitimate form (a token,
// a name and a few choices) is well under a kilobyte.
const maxFormBytes = 16 << 10

// refuseCardData answers a request carrying card data. The log line says
// that it happened and where, never what was sent (not even field names,
// which a forged request could fill with a card number).
func (h *Handler) refuseCardData(w http.ResponseWriter, r *http.Request, fields int) {
	path := r.URL.Path
	if longDigitRun(path) {
		path = "[redacted]"
	}
	h.log.WarnContext(r.Context(), "hosted: request with card data refused", "method", r.Method, "path", path,
		"fields", fields, "client", h.clientIP(r))
	h.renderMessage(w, r, http.StatusBadRequest, langOf(r), messagePage{Heading: "card_data_title", Text: "card_data_refused"})
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.renderMessage(w, r, http.StatusNotFound, langOf(r), messagePage{Heading: "not_found_title", Text: "not_found"})
}

// base is the public base URL, or the request's own origin when none is
// configured.
func (h *Handler) base(r *http.Request) string {
	if h.publicURL != "" {
		return h.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// secure reports whether cookies must be Secure: the shopper reaches
// kessai over https.
func (h *Handler) secure(r *http.Request) bool {
	return strings.HasPrefix(h.base(r), "https://")
}

// settings loads a shop's settings.
func (h *Handler) settings(ctx context.Context, shopID string) (*kessai.Settings, error) {
	s, _, err := h.svc.GetSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// gatewayBase is the base URL of the gateway the shop's browser-facing
// parts talk to (the token script), and whether there is one: the
// simulator only when it is reachable.
func (h *Handler) gatewayBase(set *kessai.Settings) (string, bool) {
	if set.Simulated() {
		return h.simURL, h.simURL != ""
	}
	return set.EscottEnvironment().BaseURL(), true
}

// tokenScriptURL is the E7 URL of the shop's token script (spec §7.1).
func tokenScriptURL(base string, set *kessai.Settings) string {
	return base + escott.PathTokenJS + "?k_TokenNinsyoCode=" + url.QueryEscape(set.Card.TokenAuthCode.Reveal())
}

// originOf returns scheme://host[:port] of a URL, "" when it has none.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// remoteIP is the default ClientIP: the connection's address.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// errorKind classifies err for the page: kessai errors by kind, anything
// else internal.
func errorKind(err error) kessai.Kind {
	var f *cardpay.Failure
	if errors.As(err, &f) {
		return f.Err.Kind
	}
	return kessai.ErrorKind(err)
}

// messagesOf returns the shopper-facing messages of an error in lang:
// every problem of a validation error, the single message of a kinded
// one, and a generic text (details logged) for an internal error.
func (h *Handler) messagesOf(ctx context.Context, err error, lang string) []string {
	var v kessai.ValidationErrors
	if errors.As(err, &v) {
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, e.Message(lang))
		}
		return out
	}
	var f *cardpay.Failure
	if errors.As(err, &f) {
		return []string{f.Err.Message(lang)}
	}
	var ke *kessai.Error
	if errors.As(err, &ke) && ke.Kind != kessai.KindInternal {
		return []string{ke.Message(lang)}
	}
	h.log.ErrorContext(ctx, "hosted: internal error", "error", err)
	return []string{text(lang, "internal_error")}
}

// statusOf is the HTTP status of a page that shows err.
func statusOf(err error) int {
	k := errorKind(err)
	if k == kessai.KindUnknown {
		// A lost answer is not "accepted" from the shopper's point of
		// view; the page explains it.
		return http.StatusOK
	}
	return k.HTTPStatus()
}

// itoa formats n with thousands separators (5,500).
func itoa(n int64) string {
	return yen.Group(n)
}
