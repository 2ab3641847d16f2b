package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

func TestTokenScriptServed(t *testing.T) {
	b := startBrowserSim(t, nil)
	for _, code := range []string{DemoMerchant.TokenAuthCode, "UNKNOWNCODE", ""} {
		status, h, body := b.do(http.MethodGet, escott.PathTokenJS, url.Values{"k_TokenNinsyoCode": {code}})
		if status != http.StatusOK {
			t.Fatalf("code %q: status %d", code, status)
		}
		if ct := h.Get("Content-Type"); ct != "application/javascript; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		for _, want := range []string{"window.SpsvApi", "spsvCreateToken", "callBackFunc", "script.spsvToken",
			"document.currentScript", tokenIssuePath, jsString(code)} {
			if !strings.Contains(body, want) {
				t.Errorf("code %q: script lacks %q", code, want)
			}
		}
	}
	if status, _, _ := b.do(http.MethodPost, escott.PathTokenJS, url.Values{}); status != http.StatusMethodNotAllowed {
		t.Errorf("POST script: status %d", status)
	}
}

// issue posts card data to the private endpoint like the script does.
func (b *browserSim) issue(form url.Values) (tokenIssueResult, http.Header) {
	b.t.Helper()
	status, h, body := b.do(http.MethodPost, tokenIssuePath, form)
	if status != http.StatusOK {
		b.t.Fatalf("issue: status %d: %s", status, body)
	}
	var res tokenIssueResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		b.t.Fatalf("issue: %v: %s", err, body)
	}
	return res, h
}

func scriptForm(code, cardNo, yy, mm, sec string) url.Values {
	return url.Values{
		"k_TokenNinsyoCode": {code}, "sim_env": {"test"}, "cardNo": {cardNo}, "yy": {yy}, "mm": {mm}, "secCd": {sec},
		"birthMM": {""}, "birthDD": {""}, "tel": {""}, "kanaSei": {""}, "kanaMei": {""},
	}
}

func tokenSearch(s *Server, pass, tok string) escott.Params {
	v := url.Values{}
	v.Set("MerchantId", DemoMerchant.MerchantID)
	v.Set("MerchantPass", pass)
	v.Set("TenantId", "0001")
	v.Set("TransactionDate", today())
	v.Set("MerchantFree1", "000000000001")
	v.Set("OperateId", string(escott.OpTokenSearch))
	v.Set("Token", tok)
	return s.process(escott.EndpointToken, v)
}

func TestTokenIssue(t *testing.T) {
	b := startBrowserSim(t, nil)
	res, h := b.issue(scriptForm(DemoMerchant.TokenAuthCode, DemoCard, "28", "12", "8888"))
	if res.ResultCode != "OK" || res.Token == "" {
		t.Fatalf("issue: %+v", res)
	}
	if res.MaskedCardNo != "4123********0300" {
		t.Errorf("maskedCardNo = %q", res.MaskedCardNo)
	}
	if h.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("no CORS header on the issuing endpoint")
	}
	ans := tokenSearch(b.s, DemoMerchant.TestPass, res.Token)
	if ans.Get("ResponseCd") != "OK" || ans.Get("TokenResponseCd") != "OK" {
		t.Errorf("1TokenSearch: %v", ans)
	}
	// Tokens from the script are test-environment tokens by default.
	if ans := tokenSearch(b.s, DemoMerchant.ProdPass, res.Token); ans.Get("TokenResponseCd") != "KHZ" {
		t.Errorf("1TokenSearch on production: %v", ans)
	}
	// Card data never reaches the log.
	if logs := b.logs.String(); strings.Contains(logs, DemoCard) || strings.Contains(logs, "8888") || strings.Contains(logs, res.Token) {
		t.Errorf("log contains card data or the token:\n%s", logs)
	}
}

func TestTokenIssueProductionScript(t *testing.T) {
	b := startBrowserSim(t, nil)
	f := scriptForm(DemoMerchant.TokenAuthCode, DemoCard, "28", "12", "")
	f.Set("sim_env", "prod")
	res, _ := b.issue(f)
	if res.ResultCode != "OK" {
		t.Fatalf("issue: %+v", res)
	}
	if ans := tokenSearch(b.s, DemoMerchant.ProdPass, res.Token); ans.Get("TokenResponseCd") != "OK" {
		t.Errorf("1TokenSearch on production: %v", ans)
	}
	_, _, body := b.do(http.MethodGet, escott.PathTokenJS, url.Values{"k_TokenNinsyoCode": {DemoMerchant.TokenAuthCode}, "sim_env": {"prod"}})
	if !strings.Contains(body, `var ENV = "prod"`) {
		t.Error("script for sim_env=prod does not carry the environment")
	}
}

func TestTokenIssueErrors(t *testing.T) {
	b := startBrowserSim(t, nil)
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"unknown auth code", scriptForm("NOPE", DemoCard, "28", "12", ""), "KI1"},
		{"empty auth code", scriptForm("", DemoCard, "28", "12", ""), "KI1"},
		{"short card number", scriptForm(DemoMerchant.TokenAuthCode, "4123", "28", "12", ""), "K20"},
		{"card number with spaces", scriptForm(DemoMerchant.TokenAuthCode, "4123 0000 0000 0300", "28", "12", ""), "K20"},
		{"month 13", scriptForm(DemoMerchant.TokenAuthCode, DemoCard, "28", "13", ""), "K21"},
		{"one-digit month", scriptForm(DemoMerchant.TokenAuthCode, DemoCard, "28", "1", ""), "K21"},
		{"security code", scriptForm(DemoMerchant.TokenAuthCode, DemoCard, "28", "12", "12"), "K24"},
		{"several", scriptForm(DemoMerchant.TokenAuthCode, "x", "2028", "12", "abc"), "K20|K21|K24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := b.issue(tt.form)
			if res.ResultCode != tt.want || res.Token != "" {
				t.Errorf("got %+v, want %s", res, tt.want)
			}
		})
	}
}

func TestTokenIssueTransport(t *testing.T) {
	b := startBrowserSim(t, nil)
	// CORS preflight.
	req, _ := http.NewRequest(http.MethodOptions, b.ts.URL+tokenIssuePath, nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	// JSON body.
	body := `{"k_TokenNinsyoCode":"` + DemoMerchant.TokenAuthCode + `","cardNo":"` + DemoCard + `","yy":"28","mm":"12","secCd":"8888"}`
	req, _ = http.NewRequest(http.MethodPost, b.ts.URL+tokenIssuePath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err = b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res tokenIssueResult
	_ = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if res.ResultCode != "OK" || res.Token == "" {
		t.Errorf("JSON body: %+v", res)
	}
	// Garbage bodies and methods: 4xx, never 5xx.
	for _, tc := range []struct{ method, ct, body string }{
		{http.MethodPost, "application/json", "{"},
		{http.MethodPost, "application/xml", "<a/>"},
		{http.MethodGet, "", ""},
		{http.MethodPost, "application/x-www-form-urlencoded", strings.Repeat("a", 20000)},
	} {
		req, _ := http.NewRequest(tc.method, b.ts.URL+tokenIssuePath, strings.NewReader(tc.body))
		if tc.ct != "" {
			req.Header.Set("Content-Type", tc.ct)
		}
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s %s: status %d", tc.method, tc.ct, resp.StatusCode)
		}
	}
}

func TestTokenDemoPage(t *testing.T) {
	b := startBrowserSim(t, nil)
	status, h, body := b.do(http.MethodGet, "/_sim/token-demo", nil)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	checkPage(t, h, body)
	if !strings.Contains(body, `class="spsvToken"`) || !strings.Contains(body, `callBackFunc="simDemoSetToken"`) {
		t.Error("demo page does not load the token script like a shop page")
	}
}

// TestTokenScriptInNode runs the served script in Node.js with a minimal
// DOM: the script tag is found, the card data is POSTed to the issuing
// endpoint on the script's origin, and the callback named by callBackFunc
// receives the token (and, for an unknown code, KI1).
func TestTokenScriptInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	b := startBrowserSim(t, nil)
	harness := `
const src = process.argv[2];
const withCurrent = process.argv[3] === "current";
const tag = {
  src: src,
  getAttribute(n) { return n === "src" ? src : n === "callBackFunc" ? "setToken" : null; },
};
globalThis.window = globalThis;
globalThis.document = {
  baseURI: "https://shop.example/checkout",
  currentScript: withCurrent ? tag : null,
  querySelector(sel) { return sel === "script.spsvToken" ? tag : null; },
};
window.setToken = function (token, card, result) {
  console.log(JSON.stringify({ token, card, result }));
};
(async () => {
  const code = await (await fetch(src)).text();
  eval(code);
  window.SpsvApi.spsvCreateToken(process.argv[4], "28", "12", "8888", "", "", "", "", "");
})();
`
	dir := t.TempDir()
	file := filepath.Join(dir, "harness.js")
	if err := os.WriteFile(file, []byte(harness), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(code, mode, cardNo string) map[string]any {
		src := b.ts.URL + escott.PathTokenJS + "?k_TokenNinsyoCode=" + url.QueryEscape(code)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, file, src, mode, cardNo)
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var got map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
			t.Fatalf("node output: %v\n%s", err, out)
		}
		return got
	}
	got := run(DemoMerchant.TokenAuthCode, "current", DemoCard)
	tok, _ := got["token"].(string)
	if tok == "" || got["card"] != "4123********0300" {
		t.Fatalf("callback got %v", got)
	}
	if ans := tokenSearch(b.s, DemoMerchant.TestPass, tok); ans.Get("TokenResponseCd") != "OK" {
		t.Errorf("token from the script: %v", ans)
	}
	// A tag inserted by script after load: found by its class.
	got = run(DemoMerchant.TokenAuthCode, "query", DemoCard)
	if tok, _ := got["token"].(string); tok == "" {
		t.Errorf("without currentScript: %v", got)
	}
	got = run("UNKNOWN", "current", DemoCard)
	if res, _ := got["result"].(map[string]any); got["token"] != "" || res["resultCode"] != "KI1" {
		t.Errorf("unknown code: %v", got)
	}
	got = run(DemoMerchant.TokenAuthCode, "current", "12")
	if res, _ := got["result"].(map[string]any); got["token"] != "" || res["resultCode"] != "K20" {
		t.Errorf("bad card: %v", got)
	}
}
