package conformance

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// TestCommonErrors covers the validation every call goes through (spec
// §16.2) on each endpoint: unknown merchant K02, wrong password K03,
// TenantId missing or unknown K04 (not on collection calls).
func TestCommonErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	good := escott.Merchant{MerchantID: demoID, MerchantPass: sim.DemoMerchant.TestPass, TenantID: "0001"}
	// One call per endpoint: E1 (1Auth), E2 (4MemRefM), E3
	// (1TokenSearch), E4 (2Ref of an existing collection).
	col := f.register(f.collectionRequest(7))
	calls := map[string]func(c *escott.Client) error{
		"1Auth": func(c *escott.Client) error {
			_, err := c.Authorize(f.ctx, escott.AuthRequest{Amount: 100, Token: f.token(visaOK)})
			return err
		},
		"4MemRefM": func(c *escott.Client) error {
			_, err := c.ReferMember(f.ctx, escott.Ref{}, escott.Member{KaiinID: "k1i1", KaiinPass: "1"})
			return err
		},
		"1TokenSearch": func(c *escott.Client) error {
			_, err := c.TokenSearch(f.ctx, escott.Ref{}, f.token(visaOK))
			return err
		},
		"2Ref": func(c *escott.Client) error {
			_, err := c.ReferCollection(f.ctx, escott.Ref{}, col.Process)
			return err
		},
	}
	cases := []struct {
		name  string
		m     escott.Merchant
		codes map[string]string // by call; "" = as the call answers for good credentials
		class escott.Class
	}{
		{"unknown merchant", escott.Merchant{MerchantID: "039999999", MerchantPass: good.MerchantPass, TenantID: "0001"},
			map[string]string{"1Auth": "K02", "4MemRefM": "K02", "1TokenSearch": "K02", "2Ref": "K02"}, escott.ClassMerchantConfig},
		{"wrong password", escott.Merchant{MerchantID: demoID, MerchantPass: "wrong", TenantID: "0001"},
			map[string]string{"1Auth": "K03", "4MemRefM": "K03", "1TokenSearch": "K03", "2Ref": "K03"}, escott.ClassMerchantConfig},
		{"TenantId missing", escott.Merchant{MerchantID: demoID, MerchantPass: good.MerchantPass},
			map[string]string{"1Auth": "K04", "4MemRefM": "K04", "1TokenSearch": "K04", "2Ref": ""}, escott.ClassMerchantConfig},
		{"TenantId unknown", escott.Merchant{MerchantID: demoID, MerchantPass: good.MerchantPass, TenantID: "0002"},
			map[string]string{"1Auth": "K04", "4MemRefM": "K04", "1TokenSearch": "K04", "2Ref": ""}, escott.ClassMerchantConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := f.client(tc.m)
			for op, call := range calls {
				want := tc.codes[op]
				err := call(c)
				if want == "" {
					if err != nil {
						t.Errorf("%s: %v, want OK", op, err)
					}
					continue
				}
				e, ok := escott.AsError(err)
				if !ok || e.NoAnswer() {
					t.Errorf("%s: %v, want %s", op, err, want)
					continue
				}
				if strings.Join(e.Codes, "|") != want {
					t.Errorf("%s: codes %v, want %s", op, e.Codes, want)
				}
				if e.Class() != tc.class {
					t.Errorf("%s: class %v, want %v", op, e.Class(), tc.class)
				}
				if e.Response.OperateID() != escott.OperateID(op) || e.Response.TransactionID() == "" {
					t.Errorf("%s: an error answer still echoes OperateId and has a TransactionId: %v", op, e.Response.Fields)
				}
			}
		})
	}
	if n := len(f.sim.Transactions(demoID, "test")); n != 0 {
		t.Fatalf("%d transactions made with bad credentials", n)
	}
}

// TestMerchantLockout: ten wrong passwords in a row (each answered K03)
// lock the merchant: every later call answers KG8, whatever the
// password, for 30 minutes.
func TestMerchantLockout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bad := f.client(escott.Merchant{MerchantID: demoID, MerchantPass: "wrong", TenantID: "0001"})
	for i := range 10 {
		_, err := bad.TokenSearch(f.ctx, escott.Ref{}, f.token(visaOK))
		if !hasCode(err, "K03") {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, err := bad.TokenSearch(f.ctx, escott.Ref{}, f.token(visaOK))
	wantCode(t, err, "KG8")
	_, err = f.c.TokenSearch(f.ctx, escott.Ref{}, f.token(visaOK))
	if e := wantCode(t, err, "KG8"); e.Class() != escott.ClassMerchantConfig {
		t.Fatalf("class %v", e.Class())
	}
	f.sim.Advance(31 * time.Minute)
	if _, err := f.c.TokenSearch(f.ctx, escott.Ref{}, f.token(visaOK)); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

// TestEnvironmentsAreSeparate: the production password addresses another
// system; the test environment's transactions, members and collections
// do not exist there (K12 / K71), and tokens issued for test are unknown.
func TestEnvironmentsAreSeparate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.auth(visaOK, false, 1000)
	m := f.newMember("1", visaOK)
	col := f.register(f.collectionRequest(7))
	tok := f.token(visaOK)

	prod := f.client(escott.Merchant{MerchantID: demoID, MerchantPass: sim.DemoMerchant.ProdPass, TenantID: "0001"},
		func(c *escott.Config) { c.Environment = escott.Production })
	_, err := prod.Search(f.ctx, escott.Ref{}, a.Process)
	wantCode(t, err, "K12")
	_, err = prod.Capture(f.ctx, escott.FollowUp{Process: a.Process})
	wantCode(t, err, "K12")
	_, err = prod.ReferMember(f.ctx, escott.Ref{}, m)
	wantCode(t, err, "K71")
	_, err = prod.ReferCollection(f.ctx, escott.Ref{}, col.Process)
	wantCode(t, err, "K12")
	_, err = prod.TokenSearch(f.ctx, escott.Ref{}, tok)
	wantCode(t, err, "KHZ")

	// A production token works in production and is unknown in test.
	ptok, err := f.sim.IssueToken(demoID, "production", visaOK, cardExp, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.c.TokenSearch(f.ctx, escott.Ref{}, ptok)
	wantCode(t, err, "KHZ")
	pa, err := prod.Authorize(f.ctx, escott.AuthRequest{Amount: 500, Token: ptok})
	wantOK(t, err)
	if got := f.sim.Transactions(demoID, "production"); len(got) != 1 || got[0].ProcessID != pa.Process.ProcessID || got[0].Env != "production" {
		t.Fatalf("production transactions %+v", got)
	}
	if _, ok := f.txn(pa.Process.ProcessID); ok {
		t.Fatal("a production transaction is visible in test")
	}
	// The production client's payment link points at the production
	// agent path.
	if u, _ := url.Parse(prod.PaymentURL("X", false)); u.Path != escott.PathAgentProd {
		t.Fatalf("production PaymentURL %s", u)
	}
	if _, err := f.c.Search(f.ctx, escott.Ref{}, a.Process); err != nil {
		t.Fatalf("the test transaction is untouched: %v", err)
	}
}

// TestParametersInQueryString: the simulator reads parameters from the
// query string as SFRA sends them (no body), and from the body as PRO
// does; when both carry a key the body wins. The answer is parsed by the
// client's ParseResponse. Only POST is served.
func TestParametersInQueryString(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.token(visaOK)
	q := url.Values{
		"MerchantId": {demoID}, "MerchantPass": {sim.DemoMerchant.TestPass}, "TenantId": {"0001"},
		"TransactionDate": {escott.TransactionDate(f.sim.Now())}, "OperateId": {"1Auth"},
		"MerchantFree1": {"000000000321"}, "Amount": {"1200"}, "PayType": {"01"}, "Token": {tok},
	}
	post := func(path string, query url.Values, body url.Values, ctype string) *escott.Response {
		t.Helper()
		u := f.srv.URL + path
		if query != nil {
			u += "?" + query.Encode()
		}
		var r io.Reader
		if body != nil {
			r = strings.NewReader(body.Encode())
		}
		req, _ := http.NewRequest(http.MethodPost, u, r)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
		}
		res, err := escott.ParseResponse(b)
		if err != nil {
			t.Fatalf("answer %q: %v", b, err)
		}
		return res
	}

	res := post(escott.PathCard, q, nil, "")
	if !res.OK() || res.ProcessID() == "" || res.MerchantFree1() != "000000000321" {
		t.Fatalf("query-string 1Auth: %v", res.Fields)
	}
	if tx := f.mustTxn(res.ProcessID()); tx.Amount != 1200 || tx.MerchantFree1 != "000000000321" {
		t.Fatalf("simulator %+v", tx)
	}
	// The client can follow up on it as usual.
	if _, err := f.c.Capture(f.ctx, escott.FollowUp{Process: escott.Process{ProcessID: res.ProcessID(), ProcessPass: res.ProcessPass()}}); err != nil {
		t.Fatal(err)
	}

	// Query and body: the body wins (a wrong password in the query is
	// overridden by the right one in the body), the rest is merged.
	q2 := url.Values{"MerchantPass": {"wrong"}, "OperateId": {"1TokenSearch"}, "Token": {f.token(visaOK)}}
	body := url.Values{"MerchantId": {demoID}, "MerchantPass": {sim.DemoMerchant.TestPass}, "TenantId": {"0001"},
		"TransactionDate": {escott.TransactionDate(f.sim.Now())}}
	res = post(escott.PathToken, q2, body, "application/x-www-form-urlencoded; charset=UTF-8")
	if !res.OK() || strings.Join(res.TokenCodes, "|") != "OK" {
		t.Fatalf("merged query and body: %v", res.Fields)
	}
	// A body without the form content type is not read: only the query
	// counts, which lacks MerchantId (K02) and TransactionDate (K05).
	res = post(escott.PathToken, q2, body, "text/plain")
	if res.OK() || strings.Join(res.Codes, "|") != "K02|K05" {
		t.Fatalf("text/plain body: %v", res.Fields)
	}

	// GET is refused without a ResponseCd: the client would record NG.
	resp, err := http.Get(f.srv.URL + escott.PathCard + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: HTTP %d", resp.StatusCode)
	}
	if _, err := escott.ParseResponse(b); err == nil {
		t.Fatalf("GET answer parsed as a gateway answer: %q", b)
	}
}

// TestWrongEndpoint: an OperateId sent to another endpoint's path answers
// K06.
func TestWrongEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	raw := f.srv.URL + escott.PathMember
	form := url.Values{"MerchantId": {demoID}, "MerchantPass": {sim.DemoMerchant.TestPass}, "TenantId": {"0001"},
		"TransactionDate": {escott.TransactionDate(f.sim.Now())}, "OperateId": {"1Auth"}, "Amount": {"100"}, "PayType": {"01"}, "Token": {f.token(visaOK)}}
	resp, err := http.PostForm(raw, form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	res, err := escott.ParseResponse(b)
	if err != nil || res.OK() || !slices.Contains(res.Codes, "K06") {
		t.Fatalf("1Auth on E2: %q %v", b, err)
	}
	if n := len(f.sim.Transactions(demoID, "test")); n != 0 {
		t.Fatalf("%d transactions", n)
	}
}
