package sim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kessai/kessai/escott"
)

// baseLink is a link-type payload of the demo merchant (spec §9.1; no
// MerchantId inside).
func baseLink(op escott.OperateID) url.Values {
	v := url.Values{}
	v.Set("MerchantPass", DemoMerchant.TestPass)
	v.Set("TransactionDate", today())
	v.Set("MerchantFree1", "000771020345")
	v.Set("MerchantFree2", "1235")
	v.Set("TenantId", "0001")
	v.Set("OperateId", string(op))
	v.Set("ProcNo", escott.LinkProcNo)
	v.Set("RedirectUrl", returnURL)
	if op == escott.OpAuth || op == escott.OpGathering {
		v.Set("PayType", "01")
		v.Set("Amount", "3300")
	}
	return v
}

// openLink GETs the hosted card page.
func (b *browserSim) openLink(payload url.Values) (int, http.Header, string) {
	b.t.Helper()
	return b.handoff(http.MethodGet, escott.PathLink, payload)
}

// linkForm opens the page and returns its form action.
func (b *browserSim) linkForm(payload url.Values) (string, string) {
	b.t.Helper()
	status, h, body := b.openLink(payload)
	return b.pageAction("E6", "card form", reLinkAction, status, h, body), body
}

func cardForm(number, mm, yy, sec string) url.Values {
	return url.Values{"action": {"card"}, "cardno": {number}, "expmm": {mm}, "expyy": {yy}, "seccd": {sec}, "holder": {"TARO YAMADA"}}
}

func TestLinkPay(t *testing.T) {
	b := startBrowserSim(t, nil)
	for _, op := range []escott.OperateID{escott.OpAuth, escott.OpGathering} {
		t.Run(string(op), func(t *testing.T) {
			action, page := b.linkForm(baseLink(op))
			if !strings.Contains(page, "3,300") || strings.Contains(page, "登録済みのカードで支払う") {
				t.Error("page does not show the amount, or offers a saved card")
			}
			status, h, body := b.do(http.MethodPost, action, cardForm("4123 0000 0000 0300", "12", "28", "8888"))
			if status != http.StatusOK {
				t.Fatalf("status %d\n%s", status, body)
			}
			checkPage(t, h, body)
			to, f := b.answer(body)
			if to != returnURL {
				t.Errorf("answer goes to %q", to)
			}
			for k, v := range map[string]string{
				"MerchantId": DemoMerchant.MerchantID, "OperateId": string(op), "ResponseCd": "OK",
				"TransactionDate": today(), "MerchantFree1": "000771020345", "MerchantFree2": "1235",
			} {
				if f.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, f.Get(k), v)
				}
			}
			for _, k := range []string{"ProcessId", "ProcessPass", "TransactionId"} {
				if f.Get(k) == "" {
					t.Errorf("no %s", k)
				}
			}
			if f.Get("MerchantPass") != "" || f.Get("Token") != "" || f.Get("SecureResultCode") != "" {
				t.Errorf("answer leaks request fields or 3DS: %v", f)
			}
			// The transaction exists for follow-up operations.
			v := url.Values{}
			v.Set("MerchantId", DemoMerchant.MerchantID)
			v.Set("MerchantPass", DemoMerchant.TestPass)
			v.Set("TenantId", "0001")
			v.Set("TransactionDate", today())
			v.Set("MerchantFree1", "000771020345")
			v.Set("OperateId", "1Search")
			v.Set("ProcessId", f.Get("ProcessId"))
			v.Set("ProcessPass", f.Get("ProcessPass"))
			if ans := b.s.process(escott.EndpointCard, v); ans.Get("ResponseCd") != "OK" || ans.Get("Amount") != "3300" {
				t.Errorf("1Search: %v", ans)
			}
			// A repeated submission re-sends the answer, it does not pay twice.
			_, _, again := b.do(http.MethodPost, action, cardForm(DemoCard, "12", "28", "8888"))
			if _, f2 := b.answer(again); f2.Get("ProcessId") != f.Get("ProcessId") {
				t.Error("second submission paid again")
			}
		})
	}
}

func TestLinkCancelAndDecline(t *testing.T) {
	b := startBrowserSim(t, nil)
	action, _ := b.linkForm(baseLink(escott.OpGathering))
	_, _, body := b.do(http.MethodPost, action, url.Values{"action": {"cancel"}})
	_, f := b.answer(body)
	if f.Get("ResponseCd") != "P51" || f.Get("MerchantId") != DemoMerchant.MerchantID || f.Get("MerchantFree2") != "1235" || f.Get("ProcessId") != "" {
		t.Errorf("cancel: %v", f)
	}

	action, _ = b.linkForm(baseLink(escott.OpGathering))
	_, _, body = b.do(http.MethodPost, action, cardForm("4000000000000556", "12", "28", ""))
	if _, f = b.answer(body); f.Get("ResponseCd") != "G55" || f.Get("ProcessId") != "" {
		t.Errorf("declined card: %v", f)
	}
}

func TestLinkCardFormErrors(t *testing.T) {
	b := startBrowserSim(t, nil)
	action, _ := b.linkForm(baseLink(escott.OpGathering))
	for _, form := range []url.Values{
		cardForm("12", "12", "28", ""),
		cardForm(DemoCard, "13", "28", ""),
		cardForm(DemoCard, "12", "2028", ""),
		cardForm(DemoCard, "12", "28", "1"),
		{"action": {"card"}, "cardno": {DemoCard}, "expmm": {"12"}, "expyy": {"28"}, "holder": {"山田太郎"}},
		{"action": {"saved"}},
		{"action": {"bogus"}},
		{},
	} {
		status, h, body := b.do(http.MethodPost, action, form)
		if status != http.StatusBadRequest {
			t.Errorf("%v: status %d", form, status)
			continue
		}
		checkPage(t, h, body)
		if !strings.Contains(body, action) || strings.Contains(body, `value="`+DemoCard) {
			t.Errorf("%v: the form is not shown again, or echoes the card number", form)
		}
	}
	// The form still works afterwards.
	_, _, body := b.do(http.MethodPost, action, cardForm(DemoCard, "12", "28", "8888"))
	if _, f := b.answer(body); f.Get("ResponseCd") != "OK" {
		t.Errorf("after errors: %v", f)
	}
}

func TestLinkMemberAndSecondHop(t *testing.T) {
	b := startBrowserSim(t, nil)
	// 4MemAdd on the hosted page (§9.1 third column).
	p := baseLink(escott.OpMemAdd)
	p.Set("MerchantFree3", "15")
	p.Set("KaiinId", "wc15i0000001")
	p.Set("KaiinPass", "001234567890")
	action, page := b.linkForm(p)
	if !strings.Contains(page, "カード登録") {
		t.Error("member page does not say it registers a card")
	}
	_, _, body := b.do(http.MethodPost, action, cardForm(DemoCard, "12", "28", "8888"))
	_, f := b.answer(body)
	if f.Get("ResponseCd") != "OK" || f.Get("OperateId") != "4MemAdd" || f.Get("KaiinId") != "wc15i0000001" ||
		f.Get("KaiinPass") != "001234567890" || f.Get("MerchantFree3") != "15" {
		t.Fatalf("4MemAdd: %v", f)
	}

	// §9.3 second hop: the payment with the new member is answered at once.
	pay := baseLink(escott.OpGathering)
	pay.Set("MerchantFree3", "15")
	pay.Set("KaiinId", "wc15i0000001")
	pay.Set("KaiinPass", "001234567890")
	status, _, body := b.openLink(pay)
	if status != http.StatusOK || reLinkAction.MatchString(body) {
		t.Fatalf("second hop shows a page (status %d)", status)
	}
	_, f = b.answer(body)
	if f.Get("ResponseCd") != "OK" || f.Get("ProcessId") == "" || f.Get("OperateId") != "1Gathering" {
		t.Fatalf("second hop: %v", f)
	}

	// A later payment by the member shows the saved card.
	action, page = b.linkForm(pay)
	if !strings.Contains(page, "4123********0300") {
		t.Fatalf("saved card not offered:\n%s", page)
	}
	_, _, body = b.do(http.MethodPost, action, url.Values{"action": {"saved"}})
	if _, f = b.answer(body); f.Get("ResponseCd") != "OK" || f.Get("ProcessId") == "" {
		t.Errorf("pay with the saved card: %v", f)
	}

	// 4MemAdd again with the same id: refused before any page.
	_, _, body = b.openLink(p)
	if _, f = b.answer(body); f.Get("ResponseCd") != "K69" {
		t.Errorf("duplicate 4MemAdd: %v", f)
	}

	// 4MemChg on the page changes the card.
	chg := baseLink(escott.OpMemChg)
	chg.Set("KaiinId", "wc15i0000001")
	chg.Set("KaiinPass", "001234567890")
	action, _ = b.linkForm(chg)
	_, _, body = b.do(http.MethodPost, action, cardForm("5123000000000001", "01", "30", ""))
	if _, f = b.answer(body); f.Get("ResponseCd") != "OK" || f.Get("KaiinId") != "wc15i0000001" {
		t.Errorf("4MemChg: %v", f)
	}
	c, _ := b.s.lookupMemberCard(b.s.merchants[DemoMerchant.MerchantID], envTest, "wc15i0000001", "001234567890")
	if c.Number != "5123000000000001" {
		t.Errorf("card not changed: %v", c.masked())
	}
}

func TestLinkThreeDS(t *testing.T) {
	b := startBrowserSim(t, nil)
	action, _ := b.linkForm(baseLink(escott.OpGathering))
	_, _, body := b.do(http.MethodPost, action, cardForm("4000000000003006", "12", "28", ""))
	_, f := b.answer(body)
	if f.Get("ResponseCd") != "OK" || f.Get("SecureResultCode") != "0" || f.Get("CAVV3D") == "" || f.Get("DSTransactionId") == "" {
		t.Errorf("3DS card: %v", f)
	}
	action, _ = b.linkForm(baseLink(escott.OpGathering))
	_, _, body = b.do(http.MethodPost, action, cardForm("4000000000003808", "12", "28", ""))
	if _, f = b.answer(body); f.Get("ResponseCd") != "U14" || f.Get("SecureResultCode") != "8" || f.Get("ProcessId") != "" {
		t.Errorf("3DS maintenance card: %v", f)
	}
	// 3DS with registration, then the second hop reuses the 3DS result.
	p := baseLink(escott.OpMemAdd)
	p.Set("KaiinId", "wc1i0000002")
	p.Set("KaiinPass", "000000000002")
	action, _ = b.linkForm(p)
	_, _, body = b.do(http.MethodPost, action, cardForm("4000000000003204", "12", "28", ""))
	_, reg := b.answer(body)
	if reg.Get("ResponseCd") != "OK" || reg.Get("SecureResultCode") != "2" {
		t.Fatalf("4MemAdd with 3DS: %v", reg)
	}
	pay := baseLink(escott.OpGathering)
	pay.Set("KaiinId", "wc1i0000002")
	pay.Set("KaiinPass", "000000000002")
	for _, k := range threeDSResultKeys {
		if reg.Get(k) != "" {
			pay.Set(k, reg.Get(k))
		}
	}
	_, _, body = b.openLink(pay)
	if _, f = b.answer(body); f.Get("ResponseCd") != "OK" || f.Get("DSTransactionId") != reg.Get("DSTransactionId") {
		t.Errorf("second hop with 3DS: %v", f)
	}
}

func TestLinkRequestErrors(t *testing.T) {
	b := startBrowserSim(t, nil)
	valid := baseLink(escott.OpGathering)
	edit := func(f func(url.Values)) url.Values {
		v := cloneValues(valid)
		f(v)
		return v
	}
	pages := []struct {
		name   string
		method string
		form   url.Values
		status int
	}{
		{"tampered", http.MethodGet, url.Values{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {tamper(b.encrypt(valid))}}, 400},
		{"unknown merchant", http.MethodGet, url.Values{"MerchantId": {"1"}, "EncryptValue": {b.encrypt(valid)}}, 400},
		{"nothing", http.MethodGet, nil, 400},
		{"PUT", http.MethodPut, nil, 405},
		{"ftp RedirectUrl", http.MethodGet, url.Values{"MerchantId": {DemoMerchant.MerchantID}, "EncryptValue": {b.encrypt(edit(func(v url.Values) { v.Set("RedirectUrl", "ftp://x/") }))}}, 400},
		{"unknown session", http.MethodPost, nil, 404},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			path := escott.PathLink
			if tt.name == "unknown session" {
				path = "/_sim/link/" + strings.Repeat("a", 32)
			}
			status, h, body := b.do(tt.method, path, tt.form)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			checkPage(t, h, body)
		})
	}
	back := []struct {
		name string
		v    url.Values
		want string
	}{
		{"wrong password", edit(func(v url.Values) { v.Set("MerchantPass", "x") }), "K03"},
		{"installments", edit(func(v url.Values) { v.Set("PayType", "03") }), "K22"},
		{"Amount", edit(func(v url.Values) { v.Set("Amount", "") }), "K23"},
		{"OperateId", edit(func(v url.Values) { v.Set("OperateId", "3Secure") }), "K06"},
		{"ProcNo", edit(func(v url.Values) { v.Del("ProcNo") }), "K86"},
		{"TransactionDate", edit(func(v url.Values) { v.Set("TransactionDate", "20261301") }), "K05"},
		{"member without ids", edit(func(v url.Values) { v.Set("OperateId", "4MemAdd") }), "K45"},
		{"4MemChg unknown member", edit(func(v url.Values) {
			v.Set("OperateId", "4MemChg")
			v.Set("KaiinId", "nobody")
			v.Set("KaiinPass", "x1")
		}), "K71"},
	}
	for _, tt := range back {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := b.openLink(tt.v)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			_, f := b.answer(body)
			if f.Get("ResponseCd") != tt.want || f.Get("MerchantId") != DemoMerchant.MerchantID {
				t.Errorf("got %v, want %s", f, tt.want)
			}
		})
	}
}
