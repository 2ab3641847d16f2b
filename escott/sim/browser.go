package sim

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/kessai/kessai/internal/yen"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kessai/kessai/escott"
)

// The browser half of the simulator: every surface a shopper's browser
// reaches (E5 3-D Secure, E6 hosted card page, E7 token script, E8
// collection agent page), the home page, static assets, and the control
// endpoints of the notification sender.
//
// All pages are html/template, UTF-8, Japanese first with English
// alongside, use no third-party assets and no inline script, and send a
// Content-Security-Policy. Malformed input gets a 4xx page, never a 500.

//go:embed web/templates/*.html
var templateFS embed.FS

//go:embed web/static
var staticFS embed.FS

// pageTemplates holds one template set per page, each the layout plus the
// page's own definitions.
var pageTemplates = mustParsePages()

func mustParsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"yen": formatYen,
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "web/templates/layout.html"))
	names, err := fs.Glob(templateFS, "web/templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimPrefix(name, "web/templates/")
		if base == "layout.html" {
			continue
		}
		t := template.Must(template.Must(layout.Clone()).ParseFS(templateFS, name))
		out[strings.TrimSuffix(base, ".html")] = t
	}
	return out
}

// Session lifetime of the 3-D Secure and hosted card pages: the gateway
// ends a 3-D Secure session after 40 minutes of inactivity with U06
// (spec §14.6); the simulator uses the same limit for both pages [SIM].
const browserSessionTTL = 40 * time.Minute

// maxBrowserSessions bounds the session store; the oldest are evicted.
const maxBrowserSessions = 10000

// linkSecondHopWindow is how long after a member registration on the
// hosted card page a payment with that member is answered without a page
// (spec §9.3, [SIM]).
const linkSecondHopWindow = 30 * time.Minute

// browserState keeps the sessions of the E5 and E6 pages. Times are real
// time, like the notification timers.
type browserState struct {
	mu       sync.Mutex
	sessions map[string]*browserSession
	// recentLinkMembers: members registered or changed on the hosted card
	// page, by merchant/env/KaiinId, for the §9.3 second hop.
	recentLinkMembers map[string]time.Time
}

// browserSession is one visit of the 3-D Secure page or the hosted card
// page: the decrypted request, kept on the simulator between the page and
// the tester's answer.
type browserSession struct {
	id         string
	kind       string // "3ds" or "link"
	merchantID string
	env        env
	payload    url.Values
	card       card // 3ds: the card being authenticated
	savedCard  string
	created    time.Time
	// claimed is set while the answer is being made; result once it is
	// made. A repeated submission re-sends the same answer instead of
	// acting twice.
	claimed bool
	result  *autoSubmit
}

func newBrowserState() *browserState {
	return &browserState{sessions: map[string]*browserSession{}, recentLinkMembers: map[string]time.Time{}}
}

func (b *browserState) put(sess *browserSession) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	for id, x := range b.sessions {
		if now.Sub(x.created) > 2*browserSessionTTL {
			delete(b.sessions, id)
		}
	}
	for len(b.sessions) >= maxBrowserSessions {
		var oldest *browserSession
		for _, x := range b.sessions {
			if oldest == nil || x.created.Before(oldest.created) {
				oldest = x
			}
		}
		delete(b.sessions, oldest.id)
	}
	for k, t := range b.recentLinkMembers {
		if now.Sub(t) > linkSecondHopWindow {
			delete(b.recentLinkMembers, k)
		}
	}
	b.sessions[sess.id] = sess
}

// get returns the session with this id and kind; expired reports a session
// older than browserSessionTTL that has not been answered.
func (b *browserState) get(id, kind string) (sess *browserSession, expired bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sess = b.sessions[id]
	if sess == nil || sess.kind != kind {
		return nil, false
	}
	return sess, sess.result == nil && time.Since(sess.created) > browserSessionTTL
}

// finish records the answer of a session unless one was recorded first;
// it returns the answer that counts.
func (b *browserState) finish(sess *browserSession, res *autoSubmit) *autoSubmit {
	b.mu.Lock()
	defer b.mu.Unlock()
	if sess.result != nil {
		return sess.result
	}
	sess.result = res
	return res
}

// claim marks a session as being answered. It reports false when the
// session was claimed before, with that answer when it is already made.
func (b *browserState) claim(sess *browserSession) (*autoSubmit, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if sess.claimed {
		return sess.result, false
	}
	sess.claimed = true
	return nil, true
}

// unclaim releases a claim that produced no answer (the form is shown
// again).
func (b *browserState) unclaim(sess *browserSession) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if sess.result == nil {
		sess.claimed = false
	}
}

func (b *browserState) answered(sess *browserSession) *autoSubmit {
	b.mu.Lock()
	defer b.mu.Unlock()
	return sess.result
}

func linkMemberKey(merchantID string, e env, kaiinID string) string {
	return merchantID + "\x00" + e.String() + "\x00" + kaiinID
}

func (b *browserState) rememberLinkMember(merchantID string, e env, kaiinID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recentLinkMembers[linkMemberKey(merchantID, e, kaiinID)] = time.Now()
}

// takeLinkMember reports (once) whether the member was registered on the
// hosted card page within linkSecondHopWindow.
func (b *browserState) takeLinkMember(merchantID string, e env, kaiinID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := linkMemberKey(merchantID, e, kaiinID)
	t, ok := b.recentLinkMembers[k]
	delete(b.recentLinkMembers, k)
	return ok && time.Since(t) <= linkSecondHopWindow
}

// nowReal is the real clock of sessions (not the simulator's clock).
func nowReal() time.Time { return time.Now() }

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// routesBrowser registers the browser surfaces.
func (s *Server) routesBrowser(mux *http.ServeMux) {
	s.browser = newBrowserState()

	mux.HandleFunc("GET /{$}", s.handleHome)
	mux.HandleFunc("GET /_sim/{$}", s.handleHome)
	mux.HandleFunc("GET /_sim/token-demo", s.handleTokenDemo)
	static, _ := fs.Sub(staticFS, "web/static")
	fileServer := http.StripPrefix("/_sim/static/", http.FileServerFS(static))
	mux.Handle("GET /_sim/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		fileServer.ServeHTTP(w, r)
	}))

	// E7 token script and its private issuing endpoint.
	mux.HandleFunc(escott.PathTokenJS, s.handleTokenJS)
	mux.HandleFunc(tokenIssuePath, s.handleTokenIssue)

	// E5 3-D Secure.
	mux.HandleFunc(escott.PathThreeDS, s.handleThreeDS)
	mux.HandleFunc("/_sim/3ds/{session}", s.handleThreeDSAnswer)

	// E6 hosted card page.
	mux.HandleFunc(escott.PathLink, s.handleLink)
	mux.HandleFunc("/_sim/link/{session}", s.handleLinkAnswer)

	// E8 collection agent page, test and production.
	mux.HandleFunc(escott.PathAgentTest, s.handleAgent(envTest))
	mux.HandleFunc(escott.PathAgentProd, s.handleAgent(envProd))

	// Notification sender control.
	mux.HandleFunc("GET /_sim/notifications", s.handleNotificationsList)
	mux.HandleFunc("POST /_sim/notifications/retry", s.handleNotificationsRetry)
	mux.HandleFunc("POST /_sim/notifications/flush", s.handleNotificationsFlush)
}

// ---- rendering ----

// page is what every template receives.
type page struct {
	Base  string // path prefix of the simulator's public URL, "" at the root
	Title string
	D     any
}

// csp builds the Content-Security-Policy of a page. Scripts, styles and
// images come from the simulator itself only. Pages that hand the browser
// back to the merchant (auto-submit) leave form-action open, because the
// merchant's return URL may redirect further.
func csp(formActionOpen bool) string {
	p := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'"
	if !formActionOpen {
		p += "; form-action 'self'"
	}
	return p
}

func setPageHeaders(w http.ResponseWriter, formActionOpen bool) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp(formActionOpen))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// writePage renders a page template with status.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	t, ok := pageTemplates[name]
	if !ok {
		panic("sim: no page template " + name)
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout.html", page{Base: s.basePath(), Title: title, D: data}); err != nil {
		s.log.Error("sim: rendering page", "page", name, "err", err)
		status = http.StatusInternalServerError
		setPageHeaders(w, false)
		w.WriteHeader(status)
		fmt.Fprint(w, "<!doctype html><meta charset=utf-8><title>error</title><p>シミュレーター内部エラー / simulator internal error")
		return
	}
	setPageHeaders(w, name == "autosubmit")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// errorPage is the data of the generic error page.
type errorPage struct {
	Status    int
	MessageJa string
	MessageEn string
	Detail    string
}

// writeError renders a clear error page (4xx for bad input).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, ja, en string) {
	s.writePage(w, r, status, "error", "エラー / Error", errorPage{Status: status, MessageJa: ja, MessageEn: en})
}

// basePath is the path part of Config.PublicURL without a trailing slash.
func (s *Server) basePath() string {
	if s.cfg.PublicURL == "" {
		return ""
	}
	u, err := url.Parse(s.cfg.PublicURL)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// publicBase is the scheme, host and path prefix browsers use to reach the
// simulator: Config.PublicURL, else derived from the request.
func (s *Server) publicBase(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// autoSubmit is the hand-back of the browser to the merchant: a form
// POSTed to RedirectUrl by /_sim/static/autosubmit.js.
type autoSubmit struct {
	Action       string
	EncryptValue string
	// Fields is the decrypted content, shown to the tester on the page.
	Fields escott.Params
}

// newAutoSubmit encrypts the answer with the merchant's key.
func newAutoSubmit(m *merchantEntry, redirect string, fields escott.Params) *autoSubmit {
	return &autoSubmit{Action: redirect, EncryptValue: m.cipher.Encrypt(fields), Fields: fields}
}

func (s *Server) writeAutoSubmit(w http.ResponseWriter, r *http.Request, a *autoSubmit) {
	s.writePage(w, r, http.StatusOK, "autosubmit", "加盟店へ戻ります / Returning to the shop", a)
}

// writeJSON answers a control endpoint.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// ---- shared request handling ----

// maxFormBytes bounds every browser form body.
const maxFormBytes = 64 << 10

// parseBrowserForm parses query and body with a size limit. It reports
// false (after writing a 400/413 page) when the form cannot be read.
func (s *Server) parseBrowserForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "リクエストを読み取れません。", "The request could not be read.")
		return false
	}
	return true
}

// browserEnvFor returns the environment a merchant password selects.
func browserEnvFor(m *merchantEntry, pass string) (env, bool) {
	switch pass {
	case "":
		return envTest, false
	case m.TestPass:
		return envTest, true
	case m.ProdPass:
		return envProd, true
	}
	return envTest, false
}

// maxRedirectURL is the longest RedirectUrl the simulator accepts [SIM];
// SFRA documents 64 characters for the real gateway, so longer ones are
// accepted with a warning in the log.
const (
	maxRedirectURL      = 255
	documentedRedirectN = 64
)

// checkRedirectURL validates the return URL of an E5/E6 request: an
// absolute https URL, or http for a loopback host [SIM]. It returns the
// problem in Japanese and English, or "" when acceptable.
func checkRedirectURL(raw string) (ja, en string) {
	if raw == "" {
		return "RedirectUrl が指定されていません。", "RedirectUrl is missing."
	}
	if len(raw) > maxRedirectURL {
		return fmt.Sprintf("RedirectUrl が長すぎます（%d 文字、上限 %d）。", len(raw), maxRedirectURL),
			fmt.Sprintf("RedirectUrl is too long (%d characters, at most %d).", len(raw), maxRedirectURL)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil {
		return "RedirectUrl が正しい URL ではありません。", "RedirectUrl is not a valid absolute URL."
	}
	switch u.Scheme {
	case "https":
		return "", ""
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return "", ""
		}
		return "RedirectUrl は https でなければなりません（http はループバックのみ可）。",
			"RedirectUrl must be https (http is accepted only for loopback hosts)."
	}
	return "RedirectUrl は https でなければなりません。", "RedirectUrl must be https."
}

func isLoopbackHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// httpURL reports whether raw is an absolute http(s) URL (for links to a
// merchant's pages).
func httpURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validDate reports whether s is a YYYYMMDD calendar date.
func validDate(s string) bool {
	_, err := escott.ParseDate(s)
	return err == nil
}

// formatYen formats an amount as 1,234.
func formatYen(n int64) string {
	return yen.Group(n)
}

func randomBase64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// tdsUUID returns a random (version 4) UUID.
func tdsUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// lookupTokenCard returns the card of an unused, unexpired token without
// consuming it, or the code a consuming call would answer (the mapping of
// tokenStatus).
func (s *Server) lookupTokenCard(m *merchantEntry, e env, value string) (card, string) {
	if len(value) != tokenLen || !isAlnum(value, tokenLen) {
		return card{}, "KHX"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := m.state[e].tokens[value]
	switch {
	case !ok:
		return card{}, "KHZ"
	case t.Used:
		return card{}, "KI2"
	case s.nowLocked().Sub(t.Issued) > s.cfg.TokenTTL:
		return card{}, "KI3"
	}
	return t.Card, ""
}

// lookupMemberCard returns the card of a valid member whose password
// matches, or the code a member call would answer (the rules of
// authMember: K71 unknown, expired test member or wrong password, K74
// locked, K75 invalidated). It does not count password failures: the
// operation run afterwards does.
func (s *Server) lookupMemberCard(m *merchantEntry, e env, kaiinID, kaiinPass string) (card, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	mem, ok := m.state[e].members[kaiinID]
	life := s.cfg.TestMemberLifetime
	if life == 0 {
		life = defaultTestMemberLifetime
	}
	switch {
	case !ok || (mem.Env == envTest && life > 0 && now.Sub(mem.Created) > life):
		return card{}, "K71"
	case now.Before(mem.LockedUntil):
		return card{}, "K74"
	case mem.KaiinPass != kaiinPass:
		return card{}, "K71"
	case !mem.Valid:
		return card{}, "K75"
	}
	return mem.Card, ""
}

// joinCodes joins error codes with the gateway's pipe.
func joinCodes(codes []string) string { return strings.Join(codes, "|") }

// echoFields copies the echoed request fields into an answer.
func echoFields(p *escott.Params, payload url.Values, keys ...string) {
	for _, k := range keys {
		p.SetIf(k, payload.Get(k))
	}
}

// ---- notification control endpoints ----

func (s *Server) handleNotificationsList(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Notifications())
}

func (s *Server) handleNotificationsRetry(w http.ResponseWriter, r *http.Request) {
	s.RetryNotificationsNow()
	pending := 0
	for _, v := range s.Notifications() {
		if v.Pending {
			pending++
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"pending": pending})
}

// handleNotificationsFlush retries every pending notification now and
// waits (up to 30 s) for the attempts.
func (s *Server) handleNotificationsFlush(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := s.FlushNotifications(ctx); err != nil {
		writeJSON(w, http.StatusAccepted, map[string]any{"complete": false, "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"complete": true, "notifications": s.Notifications()})
}

// openHandOff reads what every browser hand-off (E5, E6) starts with: the
// merchant named in the clear, the EncryptValue decrypted with its key,
// and a RedirectUrl the browser can be sent back to. Anything else gets an
// error page, since there is nowhere to send the browser; ok is false then.
func (s *Server) openHandOff(w http.ResponseWriter, r *http.Request, surface string) (m *merchantEntry, merchantID string, payload url.Values, redirect string, ok bool) {
	if !s.parseBrowserForm(w, r) {
		return nil, "", nil, "", false
	}
	merchantID = r.Form.Get("MerchantId")
	m = s.merchants[merchantID]
	if m == nil {
		s.writeError(w, r, http.StatusBadRequest, "MerchantId が不正です。", "Unknown or missing MerchantId.")
		return nil, "", nil, "", false
	}
	payload, err := m.cipher.Decrypt(r.Form.Get("EncryptValue"))
	if err != nil {
		s.log.Info("sim: "+surface+" request with an undecryptable EncryptValue", "merchant", merchantID)
		s.writeError(w, r, http.StatusBadRequest, "EncryptValue を復号できません。", "EncryptValue cannot be decrypted.")
		return nil, "", nil, "", false
	}
	redirect = payload.Get("RedirectUrl")
	if ja, en := checkRedirectURL(redirect); ja != "" {
		s.writeError(w, r, http.StatusBadRequest, ja, en)
		return nil, "", nil, "", false
	}
	if len(redirect) > documentedRedirectN {
		s.log.Warn("sim: RedirectUrl longer than the 64 characters documented for the real gateway", "merchant", merchantID, "length", len(redirect))
	}
	return m, merchantID, payload, redirect, true
}
