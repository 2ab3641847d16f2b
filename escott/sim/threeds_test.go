package sim

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

var reUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// post3DS POSTs a payload to E5 like the merchant's auto-submit form.
func (b *browserSim) post3DS(payload url.Values) (int, http.Header, string) {
	b.t.Helper()
	return b.handoff(http.MethodPost, escott.PathThreeDS, payload)
}

// challenge posts a payload that must show the challenge page and returns
// the page's form action.
func (b *browserSim) challenge(payload url.Values) string {
	b.t.Helper()
	status, h, body := b.post3DS(payload)
	return b.pageAction("E5", "challenge page", reChallenge, status, h, body)
}

func TestThreeDSChallengeOutcomes(t *testing.T) {
	b := startBrowserSim(t, nil)
	tests := []struct {
		outcome, secure, resp, status, eci string
		cavv                               bool
	}{
		{"0", "0", "OK", "Y", "05", true},
		{"1", "1", "OK", "N", "07", false},
		{"2", "2", "OK", "A", "06", true},
		{"3", "3", "OK", "A", "06", true},
		{"8", "8", "OK", "U", "07", false},
		{"9", "9", "OK", "U", "07", false},
		{"U01", "9", "U01", "U", "07", false},
		{"U04", "9", "U04", "U", "07", false},
		{"U06", "9", "U06", "U", "07", false},
	}
	for _, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			tok := b.token(DemoCard, "2812", "8888")
			p := base3DS(escott.OpSecure)
			p.Set("Token", tok)
			action := b.challenge(p)
			status, h, body := b.do(http.MethodPost, action, url.Values{"outcome": {tt.outcome}})
			if status != http.StatusOK {
				t.Fatalf("status %d\n%s", status, body)
			}
			checkPage(t, h, body)
			if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "form-action") {
				t.Errorf("auto-submit page restricts form-action: %q", csp)
			}
			to, f := b.answer(body)
			if to != returnURL {
				t.Errorf("answer goes to %q", to)
			}
			want := map[string]string{
				"OperateId": "3Secure", "ResponseCd": tt.resp, "SecureResultCode": tt.secure,
				"MerchantFree1": "000482917365", "MerchantFree2": "1234",
				"MessageVersionNo3D": "2.2.0", "TransactionStatus3D": tt.status, "ECI3D": tt.eci,
			}
			for k, v := range want {
				if f.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, f.Get(k), v)
				}
			}
			if (f.Get("CAVV3D") != "") != tt.cavv || (f.Get("CAVVAlgorithm3D") != "") != tt.cavv {
				t.Errorf("CAVV3D = %q, CAVVAlgorithm3D = %q", f.Get("CAVV3D"), f.Get("CAVVAlgorithm3D"))
			}
			if !reUUID.MatchString(f.Get("DSTransactionId")) || !reUUID.MatchString(f.Get("ThreeDSServerTransactionId")) {
				t.Errorf("ids: %q %q", f.Get("DSTransactionId"), f.Get("ThreeDSServerTransactionId"))
			}
			if f.Get("EncodeXId3D") == "" {
				t.Error("no EncodeXId3D")
			}
			b.s.mu.Lock()
			r := b.s.merchants[DemoMerchant.MerchantID].state[envTest].threeDS[f.Get("DSTransactionId")]
			b.s.mu.Unlock()
			if r == nil || r.CardNumber != DemoCard || r.Amount != 5500 {
				t.Errorf("3DS result not recorded: %+v", r)
			}
			// 3Secure does not consume the token.
			if ans := tokenSearch(b.s, DemoMerchant.TestPass, tok); ans.Get("TokenResponseCd") != "OK" {
				t.Errorf("token after 3Secure: %v", ans)
			}
			// Submitting again re-sends the same answer.
			_, _, again := b.do(http.MethodPost, action, url.Values{"outcome": {"0"}})
			if _, f2 := b.answer(again); f2.Get("DSTransactionId") != f.Get("DSTransactionId") {
				t.Error("second submission made a new answer")
			}
		})
	}
}

// authWith3DS authorises with the token and the 3DS fields of an answer.
func authWith3DS(s *Server, tok string, amount string, f url.Values) escott.Params {
	v := url.Values{}
	v.Set("MerchantId", DemoMerchant.MerchantID)
	v.Set("MerchantPass", DemoMerchant.TestPass)
	v.Set("TenantId", "0001")
	v.Set("TransactionDate", today())
	v.Set("MerchantFree1", "000000000777")
	v.Set("OperateId", string(escott.OpGathering))
	v.Set("PayType", "01")
	v.Set("Amount", amount)
	v.Set("Token", tok)
	for _, k := range threeDSResultKeys {
		if f.Get(k) != "" {
			v.Set(k, f.Get(k))
		}
	}
	return s.process(escott.EndpointCard, v)
}

func TestThreeDSThenAuthorise(t *testing.T) {
	b := startBrowserSim(t, nil)
	tok := b.token(DemoCard, "2812", "8888")
	p := base3DS(escott.OpSecure)
	p.Set("Token", tok)
	_, _, body := b.do(http.MethodPost, b.challenge(p), url.Values{"outcome": {"0"}})
	_, f := b.answer(body)
	if ans := authWith3DS(b.s, tok, "5500", f); ans.Get("ResponseCd") != "OK" || ans.Get("ProcessId") == "" {
		t.Fatalf("auth with the 3DS result: %v", ans)
	}
}

func TestThreeDSFrictionless(t *testing.T) {
	b := startBrowserSim(t, nil)
	tests := []struct {
		number, secure, resp string
	}{
		{"4000000000003006", "0", "OK"},
		{"4000000000003105", "1", "OK"},
		{"4000000000003204", "2", "OK"},
		{"4000000000003907", "9", "OK"},
		{"4000000000003022", "9", "U04"},
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			p := base3DS(escott.OpSecure)
			p.Set("Token", b.token(tt.number, "2812", ""))
			status, h, body := b.post3DS(p)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			checkPage(t, h, body)
			_, f := b.answer(body)
			if f.Get("SecureResultCode") != tt.secure || f.Get("ResponseCd") != tt.resp {
				t.Errorf("got SecureResultCode=%q ResponseCd=%q", f.Get("SecureResultCode"), f.Get("ResponseCd"))
			}
		})
	}
}

func TestThreeDSMember(t *testing.T) {
	b := startBrowserSim(t, nil)

	// 4MemAdd through E5 with a frictionless card: 3DS and registration.
	p := base3DS(escott.OpMemAdd)
	p.Set("MerchantFree3", "15")
	p.Set("KaiinId", "wc15i0482211")
	p.Set("KaiinPass", "001234567890")
	p.Set("Token", b.token("4000000000003006", "2812", ""))
	_, _, body := b.post3DS(p)
	_, f := b.answer(body)
	if f.Get("OperateId") != "4MemAdd" || f.Get("ResponseCd") != "OK" || f.Get("SecureResultCode") != "0" ||
		f.Get("KaiinId") != "wc15i0482211" || f.Get("MerchantFree3") != "15" {
		t.Fatalf("4MemAdd: %v", f)
	}
	if !b.s.memberExists(b.s.merchants[DemoMerchant.MerchantID], envTest, "wc15i0482211") {
		t.Fatal("member not registered")
	}

	// 3Secure for the member (saved card): challenge, then auth with the
	// member and the 3DS fields.
	p = base3DS(escott.OpSecure)
	p.Set("KaiinId", "wc15i0482211")
	p.Set("KaiinPass", "001234567890")
	p.Set("BillingFullName", "")
	_, _, body = b.post3DS(p)
	_, f = b.answer(body) // the registered card is a frictionless 3DS card
	if f.Get("SecureResultCode") != "0" {
		t.Fatalf("3Secure for member: %v", f)
	}

	// 4MemChg with a card whose 3DS fails: nothing changes, ResponseCd
	// says why.
	p = base3DS(escott.OpMemChg)
	p.Set("KaiinId", "wc15i0482211")
	p.Set("KaiinPass", "001234567890")
	p.Set("Token", b.token("4000000000003105", "2812", ""))
	_, _, body = b.post3DS(p)
	_, f = b.answer(body)
	if f.Get("SecureResultCode") != "1" || f.Get("ResponseCd") != "U04" {
		t.Fatalf("4MemChg with failed 3DS: %v", f)
	}
	c, code := b.s.lookupMemberCard(b.s.merchants[DemoMerchant.MerchantID], envTest, "wc15i0482211", "001234567890")
	if code != "" || c.Number != "4000000000003006" {
		t.Errorf("member card changed: %v %q", c, code)
	}

	// Wrong member password: the answer comes back at once with K71.
	p = base3DS(escott.OpMemChg)
	p.Set("KaiinId", "wc15i0482211")
	p.Set("KaiinPass", "999999999999")
	p.Set("Token", b.token(DemoCard, "2812", ""))
	_, _, body = b.post3DS(p)
	if _, f = b.answer(body); f.Get("ResponseCd") != "K71" {
		t.Errorf("wrong password: %v", f)
	}
}

func TestThreeDSCombinedMode(t *testing.T) {
	b := startBrowserSim(t, nil)
	p := base3DS(escott.OpGathering)
	p.Del("MerchantId") // SFRA puts MerchantId only in the clear field
	p.Set("Token", b.token(DemoCard, "2812", "8888"))
	_, _, body := b.do(http.MethodPost, b.challenge(p), url.Values{"outcome": {"0"}})
	_, f := b.answer(body)
	if f.Get("OperateId") != "1Gathering" || f.Get("ResponseCd") != "OK" || f.Get("ProcessId") == "" ||
		f.Get("ApproveNo") == "" || f.Get("SecureResultCode") != "0" {
		t.Fatalf("combined 1Gathering: %v", f)
	}
	// A failed authentication does not authorise.
	p.Set("Token", b.token(DemoCard, "2812", "8888"))
	_, _, body = b.do(http.MethodPost, b.challenge(p), url.Values{"outcome": {"1"}})
	if _, f = b.answer(body); f.Get("ResponseCd") != "U04" || f.Get("ProcessId") != "" {
		t.Errorf("combined with SecureResultCode 1: %v", f)
	}
	// An issuer decline comes back in ResponseCd.
	p.Set("Token", b.token("4000000000000556", "2812", ""))
	_, _, body = b.do(http.MethodPost, b.challenge(p), url.Values{"outcome": {"0"}})
	if _, f = b.answer(body); f.Get("ResponseCd") != "G55" {
		t.Errorf("combined with a declining card: %v", f)
	}
}

// tamper flips a bit of the padding byte (through the previous cipher
// block), so the value no longer decrypts.
func tamper(ev string) string {
	raw, err := base64.StdEncoding.DecodeString(ev)
	if err != nil || len(raw) < 32 {
		panic("tamper: short value")
	}
	raw[len(raw)-17] ^= 0x40
	return base64.StdEncoding.EncodeToString(raw)
}

func TestThreeDSRequestErrors(t *testing.T) {
	b := startBrowserSim(t, nil)
	tok := b.token(DemoCard, "2812", "")
	valid := base3DS(escott.OpSecure)
	valid.Set("Token", tok)
	edit := func(f func(url.Values)) url.Values {
		v := cloneValues(valid)
		f(v)
		return v
	}

	// Answered on the page itself: there is nowhere to send the browser.
	pages := []struct {
		name   string
		form   url.Values
		method string
		status int
	}{
		{"tampered EncryptValue", url.Values{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {tamper(b.encrypt(valid))}}, http.MethodPost, 400},
		{"truncated EncryptValue", url.Values{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {b.encrypt(valid)[:20]}}, http.MethodPost, 400},
		{"not base64", url.Values{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {"%%%"}}, http.MethodPost, 400},
		{"empty", url.Values{"MerchantId": {DemoMerchant.MerchantID}}, http.MethodPost, 400},
		{"unknown merchant", url.Values{"MerchantId": {"999"}, "EncryptValue": {b.encrypt(valid)}}, http.MethodPost, 400},
		{"GET", nil, http.MethodGet, 405},
		{"no RedirectUrl", url.Values{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {b.encrypt(edit(func(v url.Values) { v.Del("RedirectUrl") }))}}, http.MethodPost, 400},
		{"javascript RedirectUrl", url.Values{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {b.encrypt(edit(func(v url.Values) { v.Set("RedirectUrl", "javascript:alert(1)") }))}}, http.MethodPost, 400},
		{"http RedirectUrl", url.Values{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {b.encrypt(edit(func(v url.Values) { v.Set("RedirectUrl", "http://shop.example/return") }))}}, http.MethodPost, 400},
		{"long RedirectUrl", url.Values{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {b.encrypt(edit(func(v url.Values) { v.Set("RedirectUrl", "https://shop.example/"+strings.Repeat("a", 300)) }))}}, http.MethodPost, 400},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := b.do(tt.method, escott.PathThreeDS, tt.form)
			if status != tt.status {
				t.Fatalf("status %d, want %d\n%s", status, tt.status, body)
			}
			checkPage(t, h, body)
			if strings.Contains(body, "sim-autosubmit") {
				t.Error("error page hands the browser back")
			}
		})
	}

	// Sent back to RedirectUrl with the codes.
	back := []struct {
		name string
		v    url.Values
		want string
	}{
		{"wrong password", edit(func(v url.Values) { v.Set("MerchantPass", "nope") }), "K03"},
		{"ProcNo", edit(func(v url.Values) { v.Set("ProcNo", "123") }), "K86"},
		{"OperateId", edit(func(v url.Values) { v.Set("OperateId", "1Capture") }), "K06"},
		{"TenantId", edit(func(v url.Values) { v.Set("TenantId", "0002") }), "K04"},
		{"Amount", edit(func(v url.Values) { v.Set("Amount", "1100.00") }), "K23"},
		{"no card", edit(func(v url.Values) { v.Del("Token") }), "K20"},
		{"unknown token", edit(func(v url.Values) { v.Set("Token", strings.Repeat("A", tokenLen)) }), "KHZ"},
		{"malformed token", edit(func(v url.Values) { v.Set("Token", "abc") }), "KHX"},
		{"several", edit(func(v url.Values) { v.Set("ProcNo", "x"); v.Set("Amount", "0") }), "K86|K23"},
	}
	for _, tt := range back {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := b.post3DS(tt.v)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			_, f := b.answer(body)
			if f.Get("ResponseCd") != tt.want || f.Get("SecureResultCode") != "" || f.Get("MerchantFree1") != "000482917365" {
				t.Errorf("got %v, want ResponseCd %s", f, tt.want)
			}
		})
	}

	// 3DS not contracted.
	b2 := startBrowserSim(t, func(c *Config) {
		m := DemoMerchant
		m.DisableThreeDS = true
		c.Merchants = []Merchant{m}
	})
	_, _, body := b2.post3DS(valid)
	if _, f := b2.answer(body); f.Get("ResponseCd") != "K06" {
		t.Errorf("3DS disabled: %v", f)
	}
}

func TestThreeDSSessionPage(t *testing.T) {
	b := startBrowserSim(t, nil)
	p := base3DS(escott.OpSecure)
	p.Set("Token", b.token(DemoCard, "2812", ""))
	action := b.challenge(p)

	// GET shows the page again; a bad outcome is refused with 400.
	if status, _, body := b.do(http.MethodGet, action, nil); status != http.StatusOK || !strings.Contains(body, action) {
		t.Errorf("GET challenge: %d", status)
	}
	if status, _, _ := b.do(http.MethodPost, action, url.Values{"outcome": {"7"}}); status != http.StatusBadRequest {
		t.Errorf("bad outcome: %d", status)
	}
	if status, _, _ := b.do(http.MethodPost, "/_sim/3ds/"+strings.Repeat("0", 32), url.Values{"outcome": {"0"}}); status != http.StatusNotFound {
		t.Errorf("unknown session: %d", status)
	}

	// A session left for more than 40 minutes answers U06.
	sess, _ := b.s.browser.get(strings.TrimPrefix(action, "/_sim/3ds/"), "3ds")
	b.s.browser.mu.Lock()
	sess.created = time.Now().Add(-41 * time.Minute)
	b.s.browser.mu.Unlock()
	_, _, body := b.do(http.MethodPost, action, url.Values{"outcome": {"0"}})
	if _, f := b.answer(body); f.Get("ResponseCd") != "U06" || f.Get("SecureResultCode") != "9" {
		t.Errorf("expired session: %v", f)
	}
}
