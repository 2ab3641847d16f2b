package hosted

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"github.com/kessai/kessai/internal/webasset"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/kessai/kessai"
)

//go:embed web/templates/*.html
var templateFS embed.FS

//go:embed web/static
var staticFS embed.FS

// pages are the page templates, each parsed with the layout and the
// shared card partials.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"checkout", "thanks", "message", "redirect", "mycards"} {
		t := template.Must(template.New(name).ParseFS(templateFS,
			"web/templates/layout.html", "web/templates/cardfields.html", "web/templates/"+name+".html"))
		out[name] = t
	}
	return out
}()

// assets are the embedded static files.
var assets = webasset.Load(staticFS, "web/static")

// serveAsset serves an embedded file (cache rules: package webasset).
func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	assets.Serve(w, r, r.PathValue("name"))
}

// pageData is what every page template gets.
type pageData struct {
	Lang     string
	Title    string
	ShopName string
	TestMode bool
	// LangSwitch is the URL of this page in the other language.
	LangSwitch string
	// Scripts are kessai's own scripts, loaded with defer at the end.
	Scripts []string
	Body    any

	basePath string
}

// T returns the message key in the page's language.
func (p *pageData) T(key string) string { return text(p.Lang, key) }

// Yen formats an amount: 5,500円 in Japanese, ¥5,500 in English.
func (p *pageData) Yen(n int64) string {
	return text(p.Lang, "yen_prefix") + itoa(n) + text(p.Lang, "yen_suffix")
}

// Asset is the cache-busting URL of an embedded file.
func (p *pageData) Asset(name string) string {
	if u := assets.URL(AssetsPath, name); u != "" {
		return p.basePath + u
	}
	return ""
}

// partial is the data of a partial template: the page (for T and Yen)
// and the partial's own value.
type partial struct {
	*pageData
	C any
}

// basePath is the path of the public URL ("" at the root), so that links
// keep working when kessai is served under a prefix.
func (h *Handler) basePath(r *http.Request) string {
	u, err := url.Parse(h.base(r))
	if err != nil {
		return ""
	}
	return strings.TrimRight(u.Path, "/")
}

// newPage starts the data of a page.
func (h *Handler) newPage(r *http.Request, lang, titleKey string) *pageData {
	p := &pageData{Lang: lang, Title: text(lang, titleKey), basePath: h.basePath(r)}
	p.LangSwitch = langSwitchURL(r, lang)
	return p
}

// withShop adds the shop's name and the test-mode banner.
func (h *Handler) withShop(ctx context.Context, p *pageData, shopID string, set *kessai.Settings) {
	if s, err := h.store.GetShop(ctx, shopID); err == nil {
		p.ShopName = s.Name
	}
	if set != nil {
		p.TestMode = set.TestMode()
	}
}

// langSwitchURL is the current GET URL in the other language; after a
// POST, the page's GET address. Only the parameters the pages read are
// carried over: a page must never echo what a request brought along (a
// refused card number, a my-cards link).
func langSwitchURL(r *http.Request, lang string) string {
	if longDigitRun(r.URL.Path) {
		return "" // a refused path is not repeated in the page
	}
	other := langEn
	if lang == langEn {
		other = langJa
	}
	q := url.Values{}
	if r.Method == http.MethodGet {
		in := r.URL.Query()
		for _, k := range []string{"status", "error", "order_id", "payment_id", "customer_id", "done"} {
			if v := in.Get(k); v != "" {
				q.Set(k, v)
			}
		}
	}
	q.Set("lang", other)
	return r.URL.Path + "?" + q.Encode()
}

// csp is a page's Content-Security-Policy. gateway is the origin the page
// talks to, "" for none: scripts (the token script) and the requests it
// makes (connect-src) when tokenScript, and form targets (a form or a
// redirect after a form may lead there) when forms. moreForms are further
// form targets: the collection agent's page, where a checkout's answer
// redirects when the shopper chose a collection, is another host than the
// card gateway in production.
func csp(gateway string, tokenScript, forms bool, moreForms ...string) string {
	script, connect, formAction := "'self'", "'none'", "'self'"
	if gateway != "" && tokenScript {
		script += " " + gateway
		connect = gateway
	}
	if gateway != "" && forms {
		formAction += " " + gateway
	}
	for _, o := range moreForms {
		if forms && o != "" && o != gateway {
			formAction += " " + o
		}
	}
	return "default-src 'none'; script-src " + script + "; style-src 'self'; img-src 'self' data:; connect-src " + connect +
		"; form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
}

// headers sets the security headers of every page.
func setPageHeaders(w http.ResponseWriter, policy string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", policy)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
}

// render writes a page. Rendering happens into a buffer first, so a
// template error never leaves half a page (and the error is logged).
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name, policy string, p *pageData) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.ErrorContext(r.Context(), "hosted: rendering page", "page", name, "error", err)
		setPageHeaders(w, csp("", false, false))
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("<!doctype html><title>Error</title><p>エラーが発生しました / Something went wrong"))
		return
	}
	setPageHeaders(w, policy)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderPartial renders a named template of a page's set to HTML, for a
// section a payment method contributes to the checkout page.
func renderPartial(page, name string, data any) (template.HTML, error) {
	var buf bytes.Buffer
	if err := pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil // produced by html/template: escaped already
}

// messagePage is the body of a page that only says something.
type messagePage struct {
	// Heading and Text are message keys.
	Heading, Text string
	// Texts are further paragraphs, already in the page's language.
	Texts []string
	Order *orderView
	Link  *pageLink
	// Role is the ARIA role of the message: alert for problems (the
	// default), status for good news.
	Role string

	HeadingText string
}

type pageLink struct{ URL, Label string }

// renderMessage renders a message page.
func (h *Handler) renderMessage(w http.ResponseWriter, r *http.Request, status int, lang string, m messagePage) {
	p := h.newPage(r, lang, m.Heading)
	m.HeadingText = text(lang, m.Heading)
	if m.Text != "" {
		m.Texts = append([]string{text(lang, m.Text)}, m.Texts...)
	}
	if m.Role == "" {
		m.Role = "alert"
	}
	p.Body = m
	h.render(w, r, status, "message", csp("", false, false), p)
}

// jsonAttr encodes v for a data-* attribute (html/template escapes it).
func jsonAttr(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// jsMessages are the texts checkout.js shows, in lang.
func jsMessages(lang string) string {
	m := map[string]string{}
	for _, k := range []string{"js_invalid", "js_number", "js_expiry", "js_csc", "js_name", "js_choice", "js_consent",
		"js_script", "js_token_ng", "js_token_config", "js_token_other"} {
		m[k] = text(lang, k)
	}
	return jsonAttr(m)
}
