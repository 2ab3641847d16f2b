// Package console is the shop operator's admin console: server-rendered
// pages in Japanese (English on request) for settings, orders and the
// 決済情報 operations, customers' saved cards, the payment result log,
// webhooks and the dashboard.
//
// Everything runs on the server: pages are html/template, forms are plain
// POSTs answered with a redirect (or the form again with its errors), and
// charts are SVG drawn in Go. The only scripts are kessai's own small
// files (confirmation prompts, the fee table's row buttons), so the
// Content-Security-Policy allows nothing else.
//
// Security rules (design §4):
//   - A session cookie holds a random token; the database keeps its hash
//     (service.StartAdminSession). Sessions end after an hour idle and 12
//     hours at most, at logout, and at a password change.
//   - Every POST carries the session's CSRF token; the login form, before
//     any session, carries a token bound to a cookie (double submit).
//   - Users with the read-only role see everything an admin sees but every
//     change is refused (403), on the server, whatever the page shows.
//   - Pages are never cached, never framed, and send no referrer outside.
package console

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/service"
)

// BasePath is where the console is served.
const BasePath = "/admin"

// Pattern is the ServeMux pattern to mount the Handler on.
const Pattern = BasePath + "/"

// Config wires the console.
type Config struct {
	Service *service.Service
	// Cards and Collections run the operations of the 決済情報 dialog and
	// the saved-card screens.
	Cards       *cardpay.Payer
	Collections *cvspay.Collector
	// Subscriptions runs the subscriptions screen's actions (pro plan);
	// without it the screen only shows what is stored.
	Subscriptions *renewal.Engine
	// ShopID is the shop whose operators log in (the default shop).
	ShopID string
	// PublicURL is kessai's address as browsers and the gateway reach
	// it: it decides whether cookies are Secure and is the base of the
	// notification URL shown in the settings (NOTIFY-01).
	PublicURL string
	Logger    *slog.Logger
}

// Handler serves the console.
type Handler struct {
	svc       *service.Service
	cards     *cardpay.Payer
	cvs       *cvspay.Collector
	subs      *renewal.Engine
	shopID    string
	publicURL string
	secure    bool
	log       *slog.Logger
	mux       *http.ServeMux
}

// New returns the console.
func New(cfg Config) *Handler {
	h := &Handler{svc: cfg.Service, cards: cfg.Cards, cvs: cfg.Collections, subs: cfg.Subscriptions, shopID: cfg.ShopID,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"), log: cfg.Logger, mux: http.NewServeMux()}
	if h.shopID == "" {
		h.shopID = kessai.DefaultShopID
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if u, err := url.Parse(h.publicURL); err == nil && u.Scheme == "https" {
		h.secure = true
	}
	h.mux.HandleFunc("GET "+BasePath+"/assets/{name}", serveAsset)
	h.mux.HandleFunc("GET "+BasePath, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, BasePath+"/", http.StatusMovedPermanently)
	})
	for _, rt := range slices.Concat(h.authRoutes(), h.dashboardRoutes(), h.settingsRoutes(), h.orderRoutes(),
		h.customerRoutes(), h.logRoutes(), h.webhookRoutes(), h.subscriptionRoutes()) {
		h.mux.Handle(rt.method+" "+BasePath+rt.path, h.wrap(rt))
	}
	h.mux.HandleFunc(Pattern, func(w http.ResponseWriter, r *http.Request) {
		rq := h.optionalRequest(w, r)
		h.renderError(w, r, rq, http.StatusNotFound, "error_not_found")
	})
	return h
}

// ServeHTTP sets the headers every console answer carries and routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, BasePath+"/assets/") {
		hd.Set("Cache-Control", "no-store")
	}
	h.mux.ServeHTTP(w, r)
}

// access is who may use a route.
type access int

const (
	// public: no session needed (the login page).
	public access = iota
	// viewer: any logged-in user, including read-only staff.
	viewer
	// writer: admins only; read-only users get 403.
	writer
)

// route is one page or form target of the console, path relative to
// BasePath.
type route struct {
	method string
	path   string
	access access
	handle func(w http.ResponseWriter, r *http.Request, rq *request)
}

// request is what a handler knows about the request beyond net/http: the
// user and session (nil on public routes), the language, and the shop.
type request struct {
	ShopID  string
	Lang    string
	User    *kessai.AdminUser
	Session *kessai.AdminSession
	// token is the session cookie's value (for logout).
	token string
}

// CanWrite reports whether the user may change things (an admin).
func (rq *request) CanWrite() bool { return rq.User != nil && rq.User.Role.CanWrite() }

// now is the service clock.
func (h *Handler) now() time.Time { return h.svc.Now() }
