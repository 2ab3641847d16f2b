package sim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kessai/kessai/escott"
)

func TestHomePage(t *testing.T) {
	b := startBrowserSim(t, withNotifyURL("https://shop.example/?wc-api=wc_sonypayment"))
	for _, path := range []string{"/", "/_sim/"} {
		status, h, body := b.do(http.MethodGet, path, nil)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d", path, status)
		}
		checkPage(t, h, body)
		for _, want := range []string{
			`<html lang="ja">`, "シミュレーター", "simulator",
			DemoMerchant.MerchantID, DemoMerchant.TestPass, DemoMerchant.ProdPass, DemoMerchant.TokenAuthCode,
			DemoMerchant.AESKey, DemoMerchant.AESIV, "https://shop.example/?wc-api=wc_sonypayment",
			b.ts.URL + escott.PathCard, b.ts.URL + escott.PathThreeDS, b.ts.URL + escott.PathAgentTest,
			"callBackFunc=&#34;setToken&#34;", "sim_env=prod",
			"/_sim/state", "/_sim/notifications", "/_sim/token-demo",
			"リボ払い", "ボーナス一括払い", "セブンイレブン",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
		for _, c := range TestCards {
			if !strings.Contains(body, c.Number) || !strings.Contains(body, c.NoteJa) {
				t.Errorf("%s lacks test card %s", path, c.Number)
			}
		}
	}
	if status, _, _ := b.do(http.MethodGet, "/no/such/page", nil); status != http.StatusNotFound {
		t.Errorf("unknown path: %d", status)
	}
}

func TestHomePagePublicURL(t *testing.T) {
	b := startBrowserSim(t, func(c *Config) { c.PublicURL = "https://sim.example/gw/" })
	_, _, body := b.do(http.MethodGet, "/", nil)
	if !strings.Contains(body, "https://sim.example/gw"+escott.PathLink) || !strings.Contains(body, `href="/gw/_sim/static/sim.css"`) {
		t.Error("home page does not use PublicURL")
	}
}

func TestStaticAssets(t *testing.T) {
	b := startBrowserSim(t, nil)
	for path, ct := range map[string]string{
		"/_sim/static/sim.css":       "text/css; charset=utf-8",
		"/_sim/static/autosubmit.js": "text/javascript; charset=utf-8",
		"/_sim/static/tokendemo.js":  "text/javascript; charset=utf-8",
	} {
		status, h, body := b.do(http.MethodGet, path, nil)
		if status != http.StatusOK || h.Get("Content-Type") != ct || body == "" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %q", path, status, h.Get("Content-Type"))
		}
	}
	if status, _, _ := b.do(http.MethodGet, "/_sim/static/nope.js", nil); status != http.StatusNotFound {
		t.Errorf("missing asset: %d", status)
	}
}

// TestBrowserSurfacesNeverFail sends malformed input to every browser
// surface: each answer is a 2xx/3xx/4xx page, never a 5xx.
func TestBrowserSurfacesNeverFail(t *testing.T) {
	b := startBrowserSim(t, nil)
	junk := []url.Values{
		nil,
		{"MerchantId": {""}},
		{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {""}},
		{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {"===="}},
		{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {strings.Repeat("QUFB", 5000)}},
		{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {b.cipher.EncryptString("%zz&&==")}},
		{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {b.cipher.EncryptString("OperateId=3Secure")}},
		{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {b.cipher.EncryptString("RedirectUrl=https%3A%2F%2Fx.example%2F&OperateId=%00")}},
		{"code": {"\x00"}, "rkbn": {"1"}},
		{"code": {strings.Repeat("x", 100)}},
		{"outcome": {"0"}, "action": {"card"}, "cvs": {"SEV"}},
		{"k_TokenNinsyoCode": {"<script>"}},
	}
	paths := []string{
		"/", "/_sim/", "/_sim/token-demo", escott.PathTokenJS, tokenIssuePath,
		escott.PathThreeDS, "/_sim/3ds/x", "/_sim/3ds/" + strings.Repeat("f", 32),
		escott.PathLink, "/_sim/link/x", escott.PathAgentTest, escott.PathAgentProd,
		"/_sim/notifications", "/_sim/notifications/retry", "/_sim/static/",
	}
	for _, path := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodHead, http.MethodDelete} {
			for _, form := range junk {
				status, h, body := b.do(method, path, form)
				if status >= 500 {
					t.Errorf("%s %s %v: status %d\n%s", method, path, form, status, body)
				}
				if strings.HasPrefix(h.Get("Content-Type"), "text/html") && h.Get("Content-Security-Policy") == "" && !strings.HasPrefix(path, "/_sim/static") {
					t.Errorf("%s %s: HTML without CSP", method, path)
				}
			}
		}
	}
	// A large body is refused, not processed.
	big := url.Values{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {strings.Repeat("A", 100<<10)}}
	if status, _, _ := b.do(http.MethodPost, escott.PathThreeDS, big); status != http.StatusBadRequest {
		t.Errorf("large body: %d", status)
	}
}
