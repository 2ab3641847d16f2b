package securitytest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai/internal/kessaibin"
)

// kessaiBin is the kessai binary TestMain built: the suite runs the product
// exactly as it ships, never a hand-made assembly of its packages.
var kessaiBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kessai-securitytest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "securitytest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := kessaibin.Build(dir)
	if err != nil {
		// Failing (not skipping) is deliberate: a security suite that
		// quietly does not run proves nothing.
		fmt.Fprintln(os.Stderr, "securitytest:", err)
		return 1
	}
	kessaiBin = bin
	return m.Run()
}

// childEnv is the environment of kessai processes (kessaibin.Env).
func childEnv(extra ...string) []string { return kessaibin.Env(extra...) }

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is one running `kessai serve`, with what its first-start banner
// printed.
type instance struct {
	dataDir        string
	API            string // base URL, e.g. http://127.0.0.1:41234
	Sim            string // the built-in simulator's base URL
	SecretKey      string
	PublishableKey string
	AdminLogin     string
	AdminPassword  string

	stdout, stderr *syncBuffer
	cmd            *exec.Cmd
	readerDone     chan struct{}
	stopOnce       sync.Once
}

var (
	apiRE     = regexp.MustCompile(`API:\s+(http://\S+)/v1/`)
	simRE     = regexp.MustCompile(`シミュレーター: (http://\S+)/ `)
	secretRE  = regexp.MustCompile(`secret key \(server calls\):\s+(sk_\S+)`)
	publishRE = regexp.MustCompile(`publishable key \(browser use\):\s+(pk_\S+)`)
	adminRE   = regexp.MustCompile(`login / ログイン名:\s+(\S+)\n\s+password / パスワード:\s+(\S+)`)
	bannerEnd = "kessai admin set-password" // on the banner's last line
)

// start runs `kessai serve` on free loopback ports with a fresh data
// directory (SQLite, the built-in simulator, no demo shop) and waits for its
// banner. Logs are JSON at debug level: the secrets test reads all of them.
func start(t *testing.T) *instance {
	t.Helper()
	return startWith(t, nil)
}

// startWith is start with extra environment variables for kessai serve.
func startWith(t *testing.T, env []string) *instance {
	t.Helper()
	in := &instance{dataDir: t.TempDir(), stdout: &syncBuffer{}, stderr: &syncBuffer{}, readerDone: make(chan struct{})}
	cmd := exec.Command(kessaiBin, "serve", "-data-dir", in.dataDir, "-addr", "127.0.0.1:0", "-sim-addr", "127.0.0.1:0",
		"-demo", "off", "-log-format", "json", "-log-level", "debug", "-shutdown-timeout", "5s")
	cmd.Env = childEnv(env...)
	cmd.Stderr = in.stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in.cmd = cmd
	t.Cleanup(func() { in.stop(t) })
	banner := make(chan struct{})
	go func() {
		defer close(in.readerDone)
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		seen := false
		for sc.Scan() {
			in.stdout.Write(append(sc.Bytes(), '\n'))
			if !seen && strings.Contains(sc.Text(), bannerEnd) {
				seen = true
				close(banner)
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
	}()
	select {
	case <-banner:
	case <-in.readerDone:
		t.Fatalf("kessai serve exited before its banner:\n%s\n%s", in.stdout, tail(in.stderr.String(), 4000))
	case <-time.After(60 * time.Second):
		t.Fatalf("kessai serve printed no banner in 60 s:\n%s\n%s", in.stdout, tail(in.stderr.String(), 4000))
	}
	out := in.stdout.String()
	find := func(re *regexp.Regexp, what string) []string {
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %s in the banner:\n%s", what, out)
		}
		return m
	}
	in.API = find(apiRE, "API URL")[1]
	in.Sim = find(simRE, "simulator URL")[1]
	in.SecretKey = find(secretRE, "secret key")[1]
	in.PublishableKey = find(publishRE, "publishable key")[1]
	a := find(adminRE, "admin login")
	in.AdminLogin, in.AdminPassword = a[1], a[2]
	return in
}

// stop ends the process as an operator would (SIGINT, graceful shutdown);
// a failed test gets the end of the log.
func (in *instance) stop(t *testing.T) {
	in.stopOnce.Do(func() {
		if runtime.GOOS == "windows" {
			_ = in.cmd.Process.Kill()
		} else {
			_ = in.cmd.Process.Signal(os.Interrupt)
		}
		select {
		case <-in.readerDone:
		case <-time.After(15 * time.Second):
			_ = in.cmd.Process.Kill()
			<-in.readerDone
		}
		_ = in.cmd.Wait()
		if t.Failed() {
			t.Logf("kessai log (end, without debug lines):\n%s", tail(withoutDebug(in.stderr.String()), 6000))
		}
	})
}

// withoutDebug drops the debug lines (mostly the job queue's) of a log.
func withoutDebug(log string) string {
	var b strings.Builder
	for line := range strings.Lines(log) {
		if !strings.Contains(line, `"level":"DEBUG"`) {
			b.WriteString(line)
		}
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// logs is everything the process wrote to stderr: its structured log.
func (in *instance) logs() string { return in.stderr.String() }

// cli runs a kessai command against the instance's data directory while it
// serves, as an operator would next to it; extraEnv is added to its
// environment. It returns stdout and fails the test on an error.
func (in *instance) cli(t *testing.T, extraEnv []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(kessaiBin, append(args, "-data-dir", in.dataDir)...)
	cmd.Env = childEnv(extraEnv...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("kessai %s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// --- HTTP ---

// answer is an HTTP response read whole.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (a *answer) String() string { return fmt.Sprintf("HTTP %d %s", a.Status, a.Body) }

// apiError is the documented error body of the JSON API.
type apiError struct {
	Error struct {
		Type      string `json:"type"`
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

// newClient returns a client that shows redirects instead of following
// them: the suite asserts where kessai sends a browser.
func newClient(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var plainClient = newClient(nil)

func send(t *testing.T, c *http.Client, req *http.Request) *answer {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL, err)
	}
	return &answer{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// apiCall sends a JSON API request with the given Authorization header
// value ("" for none) and extra headers (name, value pairs).
func (in *instance) apiCall(t *testing.T, method, path, authorization string, body any, headers ...string) *answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, in.API+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(t, plainClient, req)
}

// secret calls the API with the secret key, requires the status want and
// decodes the answer into out (when not nil).
func (in *instance) secret(t *testing.T, method, path string, body any, want int, out any) *answer {
	t.Helper()
	a := in.apiCall(t, method, path, "Bearer "+in.SecretKey, body)
	if a.Status != want {
		t.Fatalf("%s %s: %s, want %d", method, path, a, want)
	}
	if out != nil {
		if err := json.Unmarshal(a.Body, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, a.Body)
		}
	}
	return a
}

// decodeError reads the API's error body, failing the test when the answer
// is not one.
func decodeError(t *testing.T, a *answer) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(a.Body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not a JSON API error: %s", a)
	}
	if e.Error.RequestID == "" || e.Error.RequestID != a.Header.Get("Request-Id") {
		t.Errorf("error request_id %q, Request-Id header %q", e.Error.RequestID, a.Header.Get("Request-Id"))
	}
	return e
}

// --- shop state ---

type order struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Amount int64  `json:"amount"`
}

type payment struct {
	ID              string `json:"id"`
	OrderID         string `json:"order_id"`
	Method          string `json:"method"`
	State           string `json:"state"`
	TransactionCode string `json:"transaction_code"`
	History         []struct {
		Operation  string `json:"operation"`
		ResponseCd string `json:"response_cd"`
	} `json:"history"`
}

type event struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// createOrder creates an order through the API with the secret key.
func (in *instance) createOrder(t *testing.T, shopOrderID string, amount int64, extra map[string]any) order {
	t.Helper()
	body := map[string]any{"shop_order_id": shopOrderID, "amount": amount}
	for k, v := range extra {
		body[k] = v
	}
	var o order
	in.secret(t, "POST", "/v1/orders", body, http.StatusCreated, &o)
	return o
}

func (in *instance) order(t *testing.T, id string) order {
	t.Helper()
	var o order
	in.secret(t, "GET", "/v1/orders/"+url.PathEscape(id), nil, http.StatusOK, &o)
	return o
}

func (in *instance) payment(t *testing.T, id string) payment {
	t.Helper()
	var p payment
	in.secret(t, "GET", "/v1/payments/"+url.PathEscape(id), nil, http.StatusOK, &p)
	return p
}

// events lists the shop's events (the newest 100: more than any test
// makes).
func (in *instance) events(t *testing.T) []event {
	t.Helper()
	var l struct {
		Data []event `json:"data"`
	}
	in.secret(t, "GET", "/v1/events?limit=100", nil, http.StatusOK, &l)
	return l.Data
}

func countEvents(evs []event, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// snapshot is what an attacker's refused call must not change, read with
// the secret key.
type snapshot struct {
	Orders, Endpoints, Events, Subscriptions int
	SettingsVersion                          int64
	ClockOffset                              int64
}

func (in *instance) snapshot(t *testing.T) snapshot {
	t.Helper()
	var s snapshot
	var list struct {
		Data []json.RawMessage `json:"data"`
	}
	in.secret(t, "GET", "/v1/orders?limit=100", nil, http.StatusOK, &list)
	s.Orders = len(list.Data)
	in.secret(t, "GET", "/v1/webhook_endpoints", nil, http.StatusOK, &list)
	s.Endpoints = len(list.Data)
	s.Events = len(in.events(t))
	in.secret(t, "GET", "/v1/subscriptions?limit=100", nil, http.StatusOK, &list)
	s.Subscriptions = len(list.Data)
	var set struct {
		Version int64 `json:"version"`
	}
	in.secret(t, "GET", "/v1/settings", nil, http.StatusOK, &set)
	s.SettingsVersion = set.Version
	var clock struct {
		OffsetSeconds int64 `json:"offset_seconds"`
	}
	in.secret(t, "GET", "/v1/test_clock", nil, http.StatusOK, &clock)
	s.ClockOffset = clock.OffsetSeconds
	return s
}

// patchSettings applies a JSON merge patch to the shop's settings.
func (in *instance) patchSettings(t *testing.T, patch map[string]any) {
	t.Helper()
	in.secret(t, "PATCH", "/v1/settings", map[string]any{"settings": patch}, http.StatusOK, nil)
}

// --- the simulator's control API ---

func (in *instance) simJSON(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, in.Sim+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	a := send(t, plainClient, req)
	if a.Status/100 != 2 {
		t.Fatalf("simulator %s %s: %s", method, path, a)
	}
	if out != nil {
		if err := json.Unmarshal(a.Body, out); err != nil {
			t.Fatalf("simulator %s %s: %v in %s", method, path, err, a.Body)
		}
	}
}

// simToken has the simulator issue a card token, as its token script would
// in the shopper's browser.
func (in *instance) simToken(t *testing.T, card, cvc string) string {
	t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	in.simJSON(t, "POST", "/_sim/tokens", map[string]string{"env": "test", "card_number": card, "exp": "2812",
		"security_code": cvc, "holder_name": "TARO YAMADA"}, &tok)
	return tok.Token
}

// simServed is the number of gateway calls (E1–E4) the simulator served:
// what an attacker costs the shop at the gateway.
func (in *instance) simServed(t *testing.T) int64 {
	t.Helper()
	var st struct {
		Served int64 `json:"served"`
	}
	in.simJSON(t, "GET", "/_sim/calls", nil, &st)
	return st.Served
}

// --- browsers (console and hosted pages) ---

type browser struct {
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{c: newClient(jar)}
}

func (b *browser) get(t *testing.T, u string) *answer {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, b.c, req)
}

func (b *browser) post(t *testing.T, u string, form url.Values, headers ...string) *answer {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(t, b.c, req)
}

// cookie returns the browser's cookie of that name for u ("" if none).
func (b *browser) cookie(t *testing.T, u, name string) string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b.c.Jar.Cookies(pu) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of the first form on a page.
func csrfOf(t *testing.T, page *answer) string {
	t.Helper()
	m := csrfRE.FindSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no CSRF field on the page: %s", page)
	}
	return htmlUnescape(string(m[1]))
}

// htmlUnescape undoes html/template's escaping of attribute values (tokens
// are base64, whose '+' and '=' come out as entities).
func htmlUnescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&#61;", "=", "&#47;", "/", "&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// loginConsole logs b in to the admin console and returns the session's
// CSRF token (from the dashboard's forms).
func (in *instance) loginConsole(t *testing.T, b *browser, login, password string) string {
	t.Helper()
	page := b.get(t, in.API+"/admin/login")
	if page.Status != http.StatusOK {
		t.Fatalf("login page: %s", page)
	}
	a := b.post(t, in.API+"/admin/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {login}, "password": {password}, "next": {"/admin/"}})
	if a.Status != http.StatusSeeOther || b.cookie(t, in.API+"/admin/", "kessai_admin") == "" {
		t.Fatalf("login as %s: %s", login, a)
	}
	dash := b.get(t, in.API+"/admin/")
	if dash.Status != http.StatusOK {
		t.Fatalf("dashboard after login: %s", dash)
	}
	return csrfOf(t, dash)
}

// --- values ---

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlnum returns n random ASCII letters and digits: secret values no
// other output can contain by chance.
func randomAlnum(n int) string {
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		if err != nil {
			panic(err)
		}
		b[i] = alnum[k.Int64()]
	}
	return string(b)
}

// fakeKey is a well-formed key of kind prefix ("sk_", "pk_") that was never
// issued.
func fakeKey(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// waitFor polls cond every 50 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
