// Package api serves kessai's JSON API (version 1, under /v1) and the
// gateway's notification and return endpoint, on net/http's ServeMux.
//
// The API is described by docs/openapi.yaml and introduced in docs/api.md.
// Its rules, in one place:
//
//   - Authentication: "Authorization: Bearer sk_…", or HTTP Basic with the
//     key as user name and an empty password (curl -u sk_…:). Secret keys
//     may call everything; publishable keys only the routes marked
//     publishable (for now just GET /v1/ping); a publishable key elsewhere
//     is 403 "publishable_key_forbidden".
//   - Errors: {"error":{"type","code","message","field","errors","request_id"}},
//     with the message in Japanese unless Accept-Language prefers English;
//     a refused or undecided card or collection payment adds "payment_id", "order_id"
//     and "gateway_codes" (for the shop's logs, never for shoppers).
//     Each error kind has one HTTP status (kessai.Kind.HTTPStatus); the
//     only other statuses are the HTTP-level 405, 413, 415 and 422 (see
//     errors.go). Internal errors say nothing but the request id; the
//     details are logged under it.
//   - Bodies: JSON only (415 otherwise), at most 1 MiB (413), unknown
//     fields and wrong types are 400 naming the field's JSON path,
//     malformed JSON is 400 naming the line and column.
//   - Idempotency-Key: honoured on every POST, PATCH and DELETE, optional
//     everywhere (see idempotency.go).
//   - Lists: newest first, ?limit=1..100 (default 20) and
//     ?starting_after=<last id of the previous page>, answered as
//     {"data":[…],"has_more":bool,"next_cursor":"…"}.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/testclock"
)

// Config wires the API handler. Service is required.
type Config struct {
	Service *service.Service
	// Logger receives the access log and every internal error (with the
	// request id); slog.Default when nil.
	Logger *slog.Logger
	// Now is the clock for request ids and durations; time.Now when nil.
	Now func() time.Time
	// PublicURL is the base URL shoppers reach kessai at, e.g.
	// "https://pay.example.jp"; orders' checkout_url is built from it.
	// When empty the request's own host is used (fine for development,
	// not behind a proxy that rewrites Host).
	PublicURL string
	// Notifications handle what the gateway sends to the receiver; nil
	// handlers get the documented fallback behaviour.
	Notifications NotificationHandlers
	// GatewayShopID is the shop that receives gateway traffic: the
	// receiver's URL carries no shop, and this version runs a single
	// shop. Default kessai.DefaultShopID.
	GatewayShopID string
	// Cipher returns the EncryptValue cipher of a shop. The default reads
	// the shop's card settings (AES key and IV).
	Cipher func(ctx context.Context, shopID string) (*escott.Cipher, error)
	// Cards runs card payments (the /pay, /charge, payment operation and
	// saved-card routes, see cards.go). When nil those routes answer 503
	// "cards_unavailable".
	Cards *cardpay.Payer
	// Collections runs convenience-store / Pay-easy / e-money collections
	// (see collections.go). When nil those routes answer 503
	// "collections_unavailable".
	Collections *cvspay.Collector
	// MyCardsLink signs a short-lived link to the hosted "my cards" page
	// (hosted.Handler.MyCardsLink). When nil, POST
	// /v1/customers/{id}/card_link answers 503 "cards_unavailable".
	MyCardsLink func(ctx context.Context, shopID, customerID, returnURL string, ttl time.Duration) (string, time.Time, error)
	// Subscriptions runs subscriptions (the /v1/subscriptions routes, see
	// subscriptions.go). When nil those routes answer 503
	// "subscriptions_unavailable".
	Subscriptions *renewal.Engine
	// TestClock is the shop's simulated time (/v1/test_clock). It must be
	// the clock the service and the simulator read. When nil those routes
	// answer 404 "test_clock_unavailable": leave it nil wherever the
	// built-in simulator does not run.
	TestClock *testclock.Clock
}

// API is the http.Handler built by New.
type API struct {
	svc       *service.Service
	log       *slog.Logger
	now       func() time.Time
	publicURL string
	notify    NotificationHandlers
	shopID    string
	cipher    func(ctx context.Context, shopID string) (*escott.Cipher, error)
	cards     *cardpay.Payer
	cols      *cvspay.Collector
	cardLinks func(ctx context.Context, shopID, customerID, returnURL string, ttl time.Duration) (string, time.Time, error)
	subs      *renewal.Engine
	clock     *testclock.Clock
	mux       *http.ServeMux
}

// New returns the handler serving /v1/… and the gateway receiver (GET and
// POST on "/?wc-api=wc_sonypayment", the URL merchants already registered
// with SPS for the WooCommerce plugins, and on "/escott/notify").
func New(cfg Config) http.Handler {
	return newAPI(cfg)
}

func newAPI(cfg Config) *API {
	if cfg.Service == nil {
		panic("api: Config.Service is required")
	}
	a := &API{
		svc:       cfg.Service,
		log:       cfg.Logger,
		now:       cfg.Now,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		notify:    cfg.Notifications,
		shopID:    cfg.GatewayShopID,
		cipher:    cfg.Cipher,
		cards:     cfg.Cards,
		cols:      cfg.Collections,
		cardLinks: cfg.MyCardsLink,
		subs:      cfg.Subscriptions,
		clock:     cfg.TestClock,
		mux:       http.NewServeMux(),
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.shopID == "" {
		a.shopID = kessai.DefaultShopID
	}
	if a.cipher == nil {
		a.cipher = a.settingsCipher
	}
	a.routes()
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// route is one JSON API endpoint.
type route struct {
	method, pattern string
	// publishable routes accept a publishable key as well as a secret
	// one; every other route needs the secret key.
	publishable bool
	h           handlerFunc
}

// handlerFunc handles an authenticated call: it returns the status and the
// value to marshal, or an error that the caller turns into the error body.
type handlerFunc func(c *call) (int, any, error)

// routeTable lists the /v1 endpoints except the payment and subscription
// ones, which are in cardRoutes (cards.go), collectionRoutes
// (collections.go) and subscriptionRoutes (subscriptions.go). The four
// tables are all there is: routes registers nothing else under /v1, and
// the OpenAPI tests walk them (TestOpenAPI this one, TestCardRoutes,
// TestCollectionRoutes and TestSubscriptionRoutes the others, each with a
// server that can answer them), so an endpoint cannot be added without
// being documented and checked against the document.
func (a *API) routeTable() []route {
	return []route{
		{"GET", "/v1/ping", true, a.ping},

		{"POST", "/v1/orders", false, a.createOrder},
		{"GET", "/v1/orders", false, a.listOrders},
		{"GET", "/v1/orders/{id}", false, a.getOrder},
		{"GET", "/v1/orders/{id}/payments", false, a.listOrderPayments},
		{"GET", "/v1/payments/{id}", false, a.getPayment},

		{"GET", "/v1/settings", false, a.getSettings},
		{"PATCH", "/v1/settings", false, a.patchSettings},

		{"POST", "/v1/webhook_endpoints", false, a.createEndpoint},
		{"GET", "/v1/webhook_endpoints", false, a.listEndpoints},
		{"GET", "/v1/webhook_endpoints/{id}", false, a.getEndpoint},
		{"PATCH", "/v1/webhook_endpoints/{id}", false, a.updateEndpoint},
		{"DELETE", "/v1/webhook_endpoints/{id}", false, a.deleteEndpoint},
		{"POST", "/v1/webhook_endpoints/{id}/rotate_secret", false, a.rotateEndpointSecret},

		{"GET", "/v1/events", false, a.listEvents},
		{"GET", "/v1/events/{id}", false, a.getEvent},
		{"GET", "/v1/events/{id}/deliveries", false, a.listDeliveries},
		{"POST", "/v1/events/{id}/resend", false, a.resendEvent},
	}
}

// routes registers the route table, the JSON 404/405 fallbacks and the
// gateway receiver on the mux.
func (a *API) routes() {
	allowed := map[string][]string{}
	var order []string
	for _, rt := range slices.Concat(a.routeTable(), a.cardRoutes(), a.collectionRoutes(), a.subscriptionRoutes()) {
		a.mux.Handle(rt.method+" "+rt.pattern, a.serve(rt))
		if _, ok := allowed[rt.pattern]; !ok {
			order = append(order, rt.pattern)
		}
		allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
	}
	// A method-less pattern is less specific than the method ones on the
	// same path, so it only catches the methods not served: a JSON 405
	// instead of ServeMux's plain-text one.
	for _, p := range order {
		a.mux.Handle(p, a.methodNotAllowed(allowed[p]))
	}
	a.mux.Handle("/v1/", http.HandlerFunc(a.notFoundRoute))

	recv := http.HandlerFunc(a.receive)
	for _, p := range []string{"/{$}", "/escott/notify"} {
		a.mux.Handle("GET "+p, recv)
		a.mux.Handle("POST "+p, recv)
	}
}
