package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

// ctl calls the control API and decodes the JSON answer into out (when not
// nil). It fails the test unless the answer is JSON with the wanted
// status; error answers must be {"error": "..."}.
func (h *harness) ctl(method, path, body string, wantStatus int, out any) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, wantStatus, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		h.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	if resp.StatusCode >= 400 {
		var e map[string]string
		if err := json.Unmarshal(b, &e); err != nil || e["error"] == "" || len(e) != 1 {
			h.t.Fatalf("%s %s: error body %s", method, path, b)
		}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

func TestControlState(t *testing.T) {
	h := newHarness(t)
	pid, _ := h.auth(escott.OpAuth)
	h.must(escott.OpMemAdd, "KaiinId", "m1", "KaiinPass", "p", "Token", h.token("5123000000000001"))
	col := h.cvsAdd()
	unused := h.token(DemoCard)

	var st StateView
	h.ctl("GET", "/_sim/state?merchant="+h.mid+"&env=test", "", 200, &st)
	if st.MerchantID != h.mid || st.Env != "test" || len(st.Transactions) != 1 || st.Transactions[0].ProcessID != pid ||
		len(st.Members) != 1 || len(st.Collections) != 1 || st.Collections[0].FreeArea != col.Get("FreeArea") || len(st.Tokens) != 3 {
		t.Fatalf("state %+v", st)
	}
	for _, tk := range st.Tokens {
		if strings.Count(tk.CardNumber, "*") != 8 {
			t.Fatalf("token card not masked: %+v", tk)
		}
		if tk.Token == unused && tk.Status != "usable" || tk.Token != unused && tk.Status != "used" {
			t.Fatalf("token status %+v", tk)
		}
	}
	if st.Members[0].CardNumber != "5123********0001" || st.Transactions[0].CardNumber != "4012********0008" {
		t.Fatalf("cards not masked: %+v / %+v", st.Members[0], st.Transactions[0])
	}
	// The raw JSON never contains a full card number.
	req, _ := http.Get(h.ts.URL + "/_sim/state")
	raw, _ := io.ReadAll(req.Body)
	req.Body.Close()
	if req.StatusCode != 400 { // two merchants configured: merchant required
		t.Fatalf("state without merchant: %d %s", req.StatusCode, raw)
	}
	var full map[string]any
	h.ctl("GET", "/_sim/state?merchant="+h.mid, "", 200, &full)
	b, _ := json.Marshal(full)
	for _, n := range []string{"4012000000000008", "5123000000000001", DemoCard} {
		if strings.Contains(string(b), n) {
			t.Fatalf("state leaks card number %s", n)
		}
	}
	// Production is empty.
	h.ctl("GET", "/_sim/state?merchant="+h.mid+"&env=production", "", 200, &st)
	if len(st.Transactions)+len(st.Members)+len(st.Collections)+len(st.Tokens) != 0 {
		t.Fatalf("production state %+v", st)
	}

	h.ctl("GET", "/_sim/state?merchant="+h.mid+"&env=staging", "", 400, nil)
	h.ctl("GET", "/_sim/state?merchant=999", "", 404, nil)
	h.ctl("POST", "/_sim/state?merchant="+h.mid, "{}", 405, nil)
}

func TestControlFaults(t *testing.T) {
	h := newHarness(t)
	var created struct{ ID string }
	h.ctl("POST", "/_sim/faults", `{"op":"1Auth","kind":"response_code","response_cd":"G55","times":2}`, 201, &created)
	if created.ID == "" {
		t.Fatal("no id")
	}
	h.ctl("POST", "/_sim/faults", `{"id":"slow","kind":"latency","latency":"10ms","jitter":"1ms"}`, 201, nil)
	var list struct{ Faults []json.RawMessage }
	h.ctl("GET", "/_sim/faults", "", 200, &list)
	if len(list.Faults) != 2 || !strings.Contains(string(list.Faults[1]), `"latency": "10ms"`) && !strings.Contains(string(list.Faults[1]), `"latency":"10ms"`) {
		t.Fatalf("faults %s", list.Faults)
	}
	wantCode(t, h.do(escott.OpAuth, h.authKV()...), "G55")
	h.ctl("DELETE", "/_sim/faults/"+created.ID, "", 200, nil)
	h.ctl("DELETE", "/_sim/faults/"+created.ID, "", 404, nil)
	h.must(escott.OpAuth, h.authKV()...)
	h.ctl("DELETE", "/_sim/faults", "", 200, nil)
	if n := len(h.s.Faults()); n != 0 {
		t.Fatalf("%d faults after DELETE", n)
	}
	for _, bad := range []string{``, `[]`, `{"kind":"explode"}`, `{"kind":"latency","latency":"soon"}`, `{"kind":"latency","latency":"1s","extra":1}`,
		`{"kind":"response_code"}`, `{"kind":"timeout"} {"kind":"reset"}`, `{"kind":"timeout","probability":-1}`} {
		h.ctl("POST", "/_sim/faults", bad, 400, nil)
	}
	h.ctl("PUT", "/_sim/faults", `{}`, 405, nil)
	h.ctl("GET", "/_sim/faults/x", "", 405, nil)
}

func TestControlClock(t *testing.T) {
	h := newHarness(t)
	var c clockView
	h.ctl("GET", "/_sim/clock", "", 200, &c)
	if !c.Now.Equal(testBase) || c.Offset != "0s" {
		t.Fatalf("clock %+v", c)
	}
	h.ctl("POST", "/_sim/clock", `{"advance":"72h"}`, 200, &c)
	if !c.Now.Equal(testBase.Add(72*time.Hour)) || !h.s.Now().Equal(c.Now) {
		t.Fatalf("after advance %+v", c)
	}
	h.ctl("POST", "/_sim/clock", `{"set":"2026-12-01T10:00:00+09:00"}`, 200, &c)
	if want := time.Date(2026, 12, 1, 10, 0, 0, 0, escott.JST); !c.Now.Equal(want) || !h.s.Now().Equal(want) {
		t.Fatalf("after set %+v", c)
	}
	// TransactionDate follows the simulator clock.
	h.must(escott.OpTokenSearch, "Token", h.token(DemoCard), "TransactionDate", "20261201")
	for _, bad := range []string{`{}`, `{"advance":"1h","set":"2026-12-01T10:00:00+09:00"}`, `{"advance":"tomorrow"}`, `{"set":"2026-12-01"}`, `{"speed":2}`, `nope`} {
		h.ctl("POST", "/_sim/clock", bad, 400, nil)
	}
	h.ctl("DELETE", "/_sim/clock", "", 405, nil)
}

func TestControlTokens(t *testing.T) {
	h := newHarness(t)
	var tok struct{ Token string }
	h.ctl("POST", "/_sim/tokens", `{"merchant_id":"`+h.mid+`","env":"test","card_number":"4123000000000300","exp":"2812","security_code":"8888","holder_name":"TARO YAMADA"}`, 201, &tok)
	a := h.must(escott.OpTokenSearch, "Token", tok.Token)
	if a.Get("TokenResponseCd") != "OK" {
		t.Fatalf("token search %v", a)
	}
	h.ctl("POST", "/_sim/tokens", `{"merchant_id":"`+h.mid+`","env":"production","card_number":"4123000000000300","exp":"2812"}`, 201, &tok)
	wantCode(t, h.do(escott.OpAuth, "MerchantPass", DemoMerchant.ProdPass, "Token", tok.Token, "Amount", "1", "PayType", "01"), "OK")
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"merchant_id":"` + h.mid + `","card_number":"4123","exp":"2812"}`, 400},
		{`{"merchant_id":"` + h.mid + `","card_number":"4123000000000300","exp":"2813"}`, 400},
		{`{"merchant_id":"` + h.mid + `","card_number":"4123000000000300","exp":"2812","security_code":"12"}`, 400},
		{`{"merchant_id":"` + h.mid + `","card_number":"4123 0000 0000 0300","exp":"2812"}`, 400},
		{`{"merchant_id":"` + h.mid + `","env":"prod","card_number":"4123000000000300","exp":"2812"}`, 400},
		{`{"merchant_id":"1","card_number":"4123000000000300","exp":"2812"}`, 404},
		{`{"card_number":"4123000000000300","exp":"2812"}`, 400}, // two merchants: merchant_id required
		{`{"merchant_id":"` + h.mid + `","number":"4123000000000300"}`, 400},
	} {
		h.ctl("POST", "/_sim/tokens", tc.body, tc.status, nil)
	}
	h.ctl("GET", "/_sim/tokens", "", 405, nil)

	// The TTL runs on the simulator clock.
	tk, _ := h.s.IssueToken(h.mid, "test", DemoCard, "2812", "", "")
	h.s.Advance(20 * time.Minute)
	if a := h.do(escott.OpTokenSearch, "Token", tk); a.Get("TokenResponseCd") != "OK" {
		t.Fatalf("token at TTL: %v", a)
	}
	h.s.Advance(time.Second)
	if a := h.do(escott.OpTokenSearch, "Token", tk); a.Get("TokenResponseCd") != "KI3" {
		t.Fatalf("token after TTL: %v", a)
	}
	wantCode(t, h.do(escott.OpAuth, "Token", tk, "Amount", "1", "PayType", "01"), "KI3")
}

// TestTokenSearch covers 1TokenSearch: it never consumes, and answers the
// token's state in TokenResponseCd.
func TestTokenSearch(t *testing.T) {
	h := newHarness(t)
	tok := h.token(DemoCard)
	for range 3 {
		a := h.must(escott.OpTokenSearch, "Token", tok, "Amount", "5500")
		if a.Get("TokenResponseCd") != "OK" {
			t.Fatalf("search %v", a)
		}
	}
	h.must(escott.OpAuth, "Token", tok, "Amount", "100", "PayType", "01")
	cases := []struct{ token, resp, tokResp string }{
		{tok, "OK", "KI2"},
		{randAlnum(tokenLen), "OK", "KHZ"},
		{"not-a-token", "OK", "KHX"},
		{absent, "KHX", ""},
	}
	for _, tc := range cases {
		a := h.do(escott.OpTokenSearch, "Token", tc.token)
		if a.Get("ResponseCd") != tc.resp || a.Get("TokenResponseCd") != tc.tokResp {
			t.Fatalf("token %q: %v", tc.token, a)
		}
	}
	wantCode(t, h.do(escott.OpAuth, "Token", tok, "Amount", "100", "PayType", "01"), "KI2")
	wantCode(t, h.do(escott.OpAuth, "Token", randAlnum(tokenLen), "Amount", "100", "PayType", "01"), "KHZ")
}

func TestControlPayAndReset(t *testing.T) {
	h := newHarness(t)
	a, b := h.cvsAdd(), h.cvsAdd()
	var cv CollectionView
	h.ctl("POST", "/_sim/collections/pay", `{"merchant_id":"`+h.mid+`","env":"test","free_area":"`+a.Get("FreeArea")+`","cvs":"FAM"}`, 200, &cv)
	if cv.Status != "PAID" || cv.CvsCd != "FAM" || cv.ProcessID != a.Get("ProcessId") {
		t.Fatalf("paid %+v", cv)
	}
	h.ctl("POST", "/_sim/collections/pay", `{"merchant_id":"`+h.mid+`","process_id":"`+b.Get("ProcessId")+`"}`, 200, &cv)
	if cv.Status != "PAID" || cv.CvsCd != "SEV" {
		t.Fatalf("paid by process id %+v", cv)
	}
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"merchant_id":"` + h.mid + `","free_area":"` + a.Get("FreeArea") + `"}`, 409},
		{`{"merchant_id":"` + h.mid + `","free_area":"nope"}`, 404},
		{`{"merchant_id":"` + h.mid + `","process_id":"nope"}`, 404},
		{`{"merchant_id":"` + h.mid + `"}`, 400},
		{`{"merchant_id":"` + h.mid + `","free_area":"x","process_id":"y"}`, 400},
		{`{"merchant_id":"` + h.mid + `","free_area":"x","cvs":"ABC"}`, 400},
		{`{"merchant_id":"` + h.mid + `","free_area":"x","env":"live"}`, 400},
		{`{"merchant_id":"1","free_area":"x"}`, 404},
		{`{"free_area":1}`, 400},
	} {
		h.ctl("POST", "/_sim/collections/pay", tc.body, tc.status, nil)
	}

	h.s.AddFault(Fault{Kind: FaultLatency, Latency: time.Millisecond})
	h.s.Advance(time.Hour)
	h.ctl("POST", "/_sim/reset", "", 200, nil)
	if len(h.s.Collections(h.mid, "test")) != 0 || len(h.s.Faults()) != 0 || !h.s.Now().Equal(testBase) {
		t.Fatal("reset left state behind")
	}
	h.ctl("GET", "/_sim/reset", "", 405, nil)
	// Merchants survive a reset.
	h.must(escott.OpAuth, h.authKV()...)
}
