package console

import (
	"bytes"
	"embed"
	"errors"
	"github.com/kessai/kessai/internal/webasset"
	"github.com/kessai/kessai/internal/yen"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

//go:embed web/templates/*.html
var templateFS embed.FS

//go:embed web/static
var staticFS embed.FS

// jst is the console's time zone: operators and the gateway think in
// Japan time.
var jst = time.FixedZone("JST", 9*60*60)

// funcs are the template helpers shared by every page.
var funcs = template.FuncMap{
	// jst formats a time in Japan time, "" for the zero time.
	"jst": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(jst).Format("2006-01-02 15:04:05")
	},
	"jstDate": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(jst).Format("2006-01-02")
	},
	// comma groups digits: 12,345.
	"comma": comma,
	// codes renders gateway response codes with their descriptions.
	"codes": func(codes []string, lang string) string { return escott.DescribeCodes(codes, lang) },
	"join":  strings.Join,
	"add":   func(a, b int) int { return a + b },
	"sub":   func(a, b int) int { return a - b },
}

// pages maps a page name (its file name without .html) to its template:
// the file parsed with layout.html, partials.html and the shared partial
// files (named _*.html, e.g. the settings screens' common sections).
var pages = func() map[string]*template.Template {
	files, err := fs.Glob(templateFS, "web/templates/*.html")
	if err != nil {
		panic(err)
	}
	shared := []string{"web/templates/layout.html", "web/templates/partials.html"}
	for _, f := range files {
		if strings.HasPrefix(path.Base(f), "_") {
			shared = append(shared, f)
		}
	}
	out := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" || strings.HasPrefix(name, "_") {
			continue
		}
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, append(shared, f)...))
	}
	return out
}()

// assets are the embedded static files; styles the style sheets every
// page links, console.css first (the screens' sheets build on it).
var assets = webasset.Load(staticFS, "web/static")

var styles = func() []string {
	out := []string{"console.css"}
	for _, n := range assets.Names(".css") {
		if n != "console.css" {
			out = append(out, n)
		}
	}
	return out
}()

// serveAsset serves an embedded file (cache rules: package webasset).
func serveAsset(w http.ResponseWriter, r *http.Request) { assets.Serve(w, r, r.PathValue("name")) }

// assetURL is the cache-busting URL of an embedded file.
func assetURL(name string) string { return assets.URL(BasePath+"/assets/", name) }

// page is what every template gets as its dot.
type page struct {
	Lang  string
	Title string
	// Nav is the menu entry to highlight: dashboard, orders, customers,
	// logs, webhooks, settings, account.
	Nav  string
	User *kessai.AdminUser
	// CSRF is the session's token, for every form's hidden field.
	CSRF string
	// Env and Plan are the shop's environment and plan (banner, menus).
	Env  kessai.Env
	Plan kessai.Plan
	// Notice is a success message (after a redirect), Errors the
	// messages of a refused form that are not tied to one field.
	Notice string
	Errors []string
	// FieldErrors maps a form field to its message.
	FieldErrors map[string]string
	// LangSwitch is this page in the other language.
	LangSwitch string
	Scripts    []string
	Body       any
}

// T returns a message in the page's language.
func (p *page) T(key string) string { return text(p.Lang, key) }

// Yen formats an amount: 5,500円 in Japanese, ¥5,500 in English.
func (p *page) Yen(n int64) string {
	if p.Lang == langEn {
		if n < 0 {
			return "-¥" + comma(-n)
		}
		return "¥" + comma(n)
	}
	return comma(n) + "円"
}

// Styles are the style sheets every page links.
func (p *page) Styles() []string {
	out := make([]string, len(styles))
	for i, s := range styles {
		out[i] = assetURL(s)
	}
	return out
}

// Asset is the URL of an embedded file.
func (p *page) Asset(name string) string { return assetURL(name) }

// Field is the error message of a form field ("" when none).
func (p *page) Field(name string) string { return p.FieldErrors[name] }

// CanWrite reports whether the user may change things.
func (p *page) CanWrite() bool { return p.User != nil && p.User.Role.CanWrite() }

// TestMode reports whether the shop runs outside production (the banner).
func (p *page) TestMode() bool { return p.Env != kessai.EnvProduction }

// Pro reports whether the shop runs the pro plan.
func (p *page) Pro() bool { return p.Plan == kessai.PlanPro }

// newPage starts a page: language, user, CSRF token, the shop's
// environment and plan, the notice named by ?done= (only known message
// keys: the URL cannot inject text).
func (h *Handler) newPage(r *http.Request, rq *request, nav, titleKey string) *page {
	p := &page{Lang: rq.Lang, Title: text(rq.Lang, titleKey), Nav: nav, User: rq.User, LangSwitch: langSwitchURL(r, rq.Lang)}
	if rq.Session != nil {
		p.CSRF = rq.Session.CSRFToken
	}
	if rq.User != nil {
		if set, _, err := h.svc.GetSettings(r.Context(), rq.ShopID); err == nil {
			p.Env, p.Plan = set.Environment, set.Plan
		}
	}
	if done := r.URL.Query().Get("done"); done != "" && known("done_"+done) {
		p.Notice = text(rq.Lang, "done_"+done)
	}
	p.Scripts = []string{assetURL("console.js")}
	return p
}

// langSwitchURL is the current GET URL in the other language. A page
// answering a POST (a refused form) lives at the form's target, which has
// no GET route: its switch leads back to the page the form was on (the
// Referer, sent within the console by Referrer-Policy same-origin), or to
// the dashboard.
func langSwitchURL(r *http.Request, lang string) string {
	other := langEn
	if lang == langEn {
		other = langJa
	}
	path, q := r.URL.Path, r.URL.Query()
	if r.Method != http.MethodGet {
		path, q = BasePath+"/", url.Values{}
		if ref, err := url.Parse(r.Referer()); err == nil && (ref.Host == "" || ref.Host == r.Host) &&
			strings.HasPrefix(ref.Path, BasePath+"/") && !strings.HasPrefix(ref.Path, BasePath+"/login") {
			path, q = ref.Path, ref.Query()
		}
	}
	q.Del("done")
	q.Set("lang", other)
	return path + "?" + q.Encode()
}

// render writes a page. The template runs into a buffer first, so a
// template error becomes a clean 500 page rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t, ok := pages[name]
	if !ok {
		h.log.ErrorContext(r.Context(), "console: no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.ErrorContext(r.Context(), "console: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorBody is the error page's content.
type errorBody struct {
	Message string
	Back    string
}

// renderError shows an error page with a message key.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, rq *request, status int, key string) {
	p := h.newPage(r, rq, "", "error_title")
	p.Body = errorBody{Message: text(rq.Lang, key)}
	h.render(w, r, status, "error", p)
}

// fail shows the error page for a service error: its own message for a
// known kind, a generic one (and a log line) for an internal error.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	var ke *kessai.Error
	var ve kessai.ValidationErrors
	p := h.newPage(r, rq, "", "error_title")
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &ve):
		status = http.StatusBadRequest
		msgs := make([]string, 0, len(ve))
		for _, e := range ve {
			msgs = append(msgs, e.Message(rq.Lang))
		}
		p.Body = errorBody{Message: strings.Join(msgs, " ")}
	case errors.As(err, &ke) && ke.Kind != kessai.KindInternal:
		status = ke.Kind.HTTPStatus()
		if status == http.StatusAccepted || status == http.StatusPaymentRequired {
			status = http.StatusConflict // a browser page, not an API answer
		}
		p.Body = errorBody{Message: ke.Message(rq.Lang)}
	default:
		h.log.ErrorContext(r.Context(), "console: internal error", "path", r.URL.Path, "err", err)
		p.Body = errorBody{Message: text(rq.Lang, "error_internal")}
	}
	h.render(w, r, status, "error", p)
}

// formErrors sorts a service error into the page: messages of fields the
// form has go next to them (FieldErrors), the others to the top
// (Errors). It reports false for an internal error, which the caller
// should pass to fail instead.
func formErrors(p *page, err error, lang string) bool {
	var ke *kessai.Error
	var ve kessai.ValidationErrors
	switch {
	case errors.As(err, &ve):
		if p.FieldErrors == nil {
			p.FieldErrors = map[string]string{}
		}
		for _, e := range ve {
			if e.Field != "" {
				if prev, ok := p.FieldErrors[e.Field]; ok {
					p.FieldErrors[e.Field] = prev + " " + e.Message(lang)
				} else {
					p.FieldErrors[e.Field] = e.Message(lang)
				}
			}
			p.Errors = append(p.Errors, e.Message(lang))
		}
		return true
	case errors.As(err, &ke) && ke.Kind != kessai.KindInternal:
		if ke.Field != "" {
			if p.FieldErrors == nil {
				p.FieldErrors = map[string]string{}
			}
			p.FieldErrors[ke.Field] = ke.Message(lang)
		}
		p.Errors = append(p.Errors, ke.Message(lang))
		return true
	}
	return false
}

// redirect answers a successful form with a redirect to a GET page
// (post/redirect/get), naming the success message to show there.
func redirect(w http.ResponseWriter, r *http.Request, target, done string) {
	if done != "" {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "done=" + url.QueryEscape(done)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func comma(n int64) string {
	return yen.Group(n)
}
