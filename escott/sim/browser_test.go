package sim

import (
	"bytes"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

// Shared helpers of the browser-side tests.

// lockedBuffer is a concurrency-safe log sink.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// browserSim is a running simulator behind an httptest server.
type browserSim struct {
	t      *testing.T
	s      *Server
	ts     *httptest.Server
	logs   *lockedBuffer
	cipher *escott.Cipher
	client *http.Client
}

// startBrowserSim starts the simulator with the demo merchant (modified by
// edit, when given).
func startBrowserSim(t *testing.T, edit func(*Config)) *browserSim {
	t.Helper()
	logs := &lockedBuffer{}
	cfg := Config{
		Merchants: []Merchant{DemoMerchant},
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	c, err := escott.NewCipher(DemoMerchant.AESKey, DemoMerchant.AESIV)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &browserSim{t: t, s: s, ts: ts, logs: logs, cipher: c, client: client}
}

// do sends a request and returns status, headers and body.
func (b *browserSim) do(method, path string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil && method != http.MethodGet {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		path += "?" + form.Encode()
	}
	req, err := http.NewRequest(method, b.ts.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(raw)
}

// handoff sends an encrypted payload of the demo merchant to a browser
// hand-off (E5, E6) like the merchant's page does.
func (b *browserSim) handoff(method, path string, payload url.Values) (int, http.Header, string) {
	b.t.Helper()
	return b.do(method, path, url.Values{
		"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {b.encrypt(payload)},
	})
}

// pageAction checks that a hand-off (hop names it) answered a page and
// returns the first submatch of re in it, the form action of the page
// (what names it).
func (b *browserSim) pageAction(hop, what string, re *regexp.Regexp, status int, h http.Header, body string) string {
	b.t.Helper()
	if status != http.StatusOK {
		b.t.Fatalf("%s: status %d\n%s", hop, status, body)
	}
	checkPage(b.t, h, body)
	m := re.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no %s:\n%s", what, body)
	}
	return m[1]
}

// token issues a token for the demo merchant on the test environment.
func (b *browserSim) token(number, exp, sec string) string {
	b.t.Helper()
	tok, err := b.s.issueToken(DemoMerchant.MerchantID, envTest, card{Number: number, Exp: exp, SecurityCode: sec})
	if err != nil {
		b.t.Fatal(err)
	}
	return tok
}

// today is the TransactionDate of now.
func today() string { return escott.TransactionDate(time.Now()) }

// returnURL is the merchant's return URL used by the tests (loopback http
// is allowed).
const returnURL = "http://127.0.0.1:9/return?wc-api=wc_sonypayment"

// base3DS is a 3Secure payload of the demo merchant without card source.
func base3DS(op escott.OperateID) url.Values {
	v := url.Values{}
	v.Set("MerchantId", DemoMerchant.MerchantID)
	v.Set("MerchantPass", DemoMerchant.TestPass)
	v.Set("TransactionDate", today())
	v.Set("MerchantFree1", "000482917365")
	v.Set("MerchantFree2", "1234")
	v.Set("TenantId", "0001")
	v.Set("OperateId", string(op))
	v.Set("ProcNo", "0384112")
	v.Set("RedirectUrl", returnURL)
	switch op {
	case escott.OpSecure, escott.OpAuth, escott.OpGathering:
		v.Set("Amount", "5500")
	}
	if op == escott.OpAuth || op == escott.OpGathering {
		v.Set("PayType", "01")
	}
	v.Set("BillingFullName", "TARO YAMADA")
	v.Set("BillingEmail", "taro@example.jp")
	return v
}

// encrypt encrypts a payload with the demo merchant's key.
func (b *browserSim) encrypt(v url.Values) string {
	return b.cipher.Encrypt(escott.ParamsFromValues(v))
}

var (
	reFormAction   = regexp.MustCompile(`<form id="sim-autosubmit" method="post" action="([^"]*)">`)
	reEncryptValue = regexp.MustCompile(`name="EncryptValue" value="([^"]*)"`)
	reChallenge    = regexp.MustCompile(`action="(/_sim/3ds/[0-9a-f]{32})"`)
	reLinkAction   = regexp.MustCompile(`action="(/_sim/link/[0-9a-f]{32})"`)
)

// answer extracts and decrypts the auto-submit form of a page.
func (b *browserSim) answer(body string) (action string, fields url.Values) {
	b.t.Helper()
	m := reFormAction.FindStringSubmatch(body)
	ev := reEncryptValue.FindStringSubmatch(body)
	if m == nil || ev == nil {
		b.t.Fatalf("no auto-submit form in page:\n%s", body)
	}
	fields, err := b.cipher.Decrypt(html.UnescapeString(ev[1]))
	if err != nil {
		b.t.Fatalf("answer does not decrypt: %v", err)
	}
	return html.UnescapeString(m[1]), fields
}

// checkPage asserts the common properties of every HTML page: CSP, UTF-8,
// no inline script.
func checkPage(t *testing.T, h http.Header, body string) {
	t.Helper()
	if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(tag, " src=") {
			t.Errorf("inline script: %s", tag)
		}
	}
	if strings.Contains(body, " style=") || strings.Contains(body, "<style") || strings.Contains(body, " onload=") || strings.Contains(body, " onclick=") {
		t.Error("inline style or event handler in page")
	}
}
