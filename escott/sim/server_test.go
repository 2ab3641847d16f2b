package sim

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

// testBase is the real clock of test simulators: fixed, so that every test
// is deterministic; the simulator clock moves only by Advance/SetTime.
var testBase = time.Date(2026, 4, 1, 10, 0, 0, 0, escott.JST)

// absent, as a value in harness overrides, removes the key.
const absent = "\x00absent"

// Second merchant with members and collection disabled.
var restrictedMerchant = Merchant{
	MerchantID: "030000002", TestPass: "restrTest02", ProdPass: "restrProd02",
	TenantIDs: []string{"0001", "0002"}, TokenAuthCode: "RESTRICTEDTOKEN2",
	AESKey: "RESTRAESKEY00002", AESIV: "RESTRAESIV000002",
	DisableMembers: true, DisableCollection: true,
}

type harness struct {
	t   *testing.T
	s   *Server
	ts  *httptest.Server
	mid string
	env string // "test" or "production"
}

func newHarness(t *testing.T, mods ...func(*Config)) *harness {
	t.Helper()
	cfg := Config{
		Merchants: []Merchant{DemoMerchant, restrictedMerchant},
		Now:       func() time.Time { return testBase },
	}
	for _, m := range mods {
		m(&cfg)
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
	return &harness{t: t, s: s, ts: ts, mid: DemoMerchant.MerchantID, env: "test"}
}

// pass is the merchant password of the harness's environment.
func (h *harness) pass() string {
	if h.env == "production" {
		return DemoMerchant.ProdPass
	}
	return DemoMerchant.TestPass
}

// today is the simulator's JST date as a TransactionDate.
func (h *harness) today() string { return escott.TransactionDate(h.s.Now()) }

// params builds a complete, valid request for op with overrides kv (pairs;
// the value absent removes the key).
func (h *harness) params(op escott.OperateID, kv ...string) url.Values {
	v := url.Values{}
	v.Set("MerchantId", h.mid)
	v.Set("MerchantPass", h.pass())
	v.Set("TransactionDate", h.today())
	v.Set("OperateId", string(op))
	v.Set("MerchantFree1", "000482917365")
	v.Set("MerchantFree2", "1234")
	if endpointOf(op) != escott.EndpointCollection {
		v.Set("TenantId", "0001")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == absent {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// post sends a raw form POST to an endpoint and returns the parsed answer,
// failing the test unless the answer is a well-formed gateway answer.
func (h *harness) post(ep escott.Endpoint, body url.Values) url.Values {
	h.t.Helper()
	resp, err := http.Post(h.ts.URL+ep.Path(), "application/x-www-form-urlencoded", strings.NewReader(body.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	return h.readAnswer(resp)
}

func (h *harness) readAnswer(resp *http.Response) url.Values {
	h.t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("status %d, body %q", resp.StatusCode, b)
	}
	if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(b)) {
		h.t.Fatalf("Content-Length %q for a body of %d bytes", got, len(b))
	}
	v, err := url.ParseQuery(string(b))
	if err != nil || v.Get("ResponseCd") == "" {
		h.t.Fatalf("answer %q: no ResponseCd (%v)", b, err)
	}
	return v
}

// do sends op to its own endpoint with overrides.
func (h *harness) do(op escott.OperateID, kv ...string) url.Values {
	h.t.Helper()
	return h.post(endpointOf(op), h.params(op, kv...))
}

// must sends op and fails the test unless the answer is OK.
func (h *harness) must(op escott.OperateID, kv ...string) url.Values {
	h.t.Helper()
	a := h.do(op, kv...)
	if a.Get("ResponseCd") != "OK" {
		h.t.Fatalf("%s: ResponseCd=%s, want OK (answer %v)", op, a.Get("ResponseCd"), a)
	}
	return a
}

// token issues a token for a card expiring 12/28.
func (h *harness) token(number string) string {
	h.t.Helper()
	return h.tokenSec(number, "")
}

func (h *harness) tokenSec(number, sec string) string {
	h.t.Helper()
	tok, err := h.s.IssueToken(h.mid, h.env, number, "2812", sec, "TARO YAMADA")
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// auth creates a transaction with a fresh token of the demo VISA card.
func (h *harness) auth(op escott.OperateID, kv ...string) (pid, ppass string) {
	h.t.Helper()
	kv = append([]string{"Token", h.token("4012000000000008"), "Amount", "5500", "PayType", "01"}, kv...)
	a := h.must(op, kv...)
	return a.Get("ProcessId"), a.Get("ProcessPass")
}

func wantCode(t *testing.T, a url.Values, want string) {
	t.Helper()
	if got := a.Get("ResponseCd"); got != want {
		t.Fatalf("ResponseCd = %q, want %q (answer %v)", got, want, a)
	}
}

// txn returns the transaction view with this ProcessId.
func (h *harness) txn(pid string) TransactionView {
	h.t.Helper()
	for _, t := range h.s.Transactions(h.mid, h.env) {
		if t.ProcessID == pid {
			return t
		}
	}
	h.t.Fatalf("no transaction %s", pid)
	return TransactionView{}
}

// TestWriterRawHTTP speaks HTTP/1.1 by hand like the PHP plugins do and
// reads to EOF: the answer must have a Content-Length, no chunking, a
// single body line, and the server must close the connection.
func TestWriterRawHTTP(t *testing.T) {
	h := newHarness(t)
	body := h.params(escott.OpTokenSearch, "Token", h.token(DemoCard)).Encode()
	conn, err := net.Dial("tcp", h.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: www.test.e-scott.jp\r\nUser-Agent: SLN_PAYMENT_CLIENT_PG_PHP_VERSION_1_0\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		escott.PathToken, len(body), body)
	raw, err := io.ReadAll(conn) // until EOF: the server closes
	if err != nil {
		t.Fatal(err)
	}
	head, payload, ok := strings.Cut(string(raw), "\r\n\r\n")
	if !ok {
		t.Fatalf("no header/body separator in %q", raw)
	}
	if !strings.HasPrefix(head, "HTTP/1.1 200 ") {
		t.Fatalf("status line: %q", head)
	}
	hdr := map[string]string{}
	for _, line := range strings.Split(head, "\r\n")[1:] {
		k, v, _ := strings.Cut(line, ": ")
		hdr[strings.ToLower(k)] = v
	}
	if _, chunked := hdr["transfer-encoding"]; chunked {
		t.Fatalf("chunked answer: %q", head)
	}
	if hdr["content-length"] != strconv.Itoa(len(payload)) {
		t.Fatalf("Content-Length %q, body %d bytes", hdr["content-length"], len(payload))
	}
	if hdr["connection"] != "close" {
		t.Fatalf("Connection: %q", hdr["connection"])
	}
	if hdr["content-type"] != "text/plain; charset=UTF-8" {
		t.Fatalf("Content-Type: %q", hdr["content-type"])
	}
	if strings.ContainsAny(payload, "\r\n") {
		t.Fatalf("body is not a single line: %q", payload)
	}
	v, err := url.ParseQuery(payload)
	if err != nil || v.Get("ResponseCd") != "OK" || v.Get("TokenResponseCd") != "OK" {
		t.Fatalf("answer %q (%v)", payload, err)
	}
}

// TestPipeIsPercentEncoded: several codes are joined by '|', sent
// percent-encoded as SFRA's parser implies.
func TestPipeIsPercentEncoded(t *testing.T) {
	h := newHarness(t)
	resp, err := http.Post(h.ts.URL+escott.PathCard, "application/x-www-form-urlencoded",
		strings.NewReader(h.params(escott.OpAuth, "TenantId", "9999", "TransactionDate", "2020").Encode()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "ResponseCd=K04%7CK05%7C") {
		t.Fatalf("body %q", b)
	}
}

func TestQueryStringParameters(t *testing.T) {
	h := newHarness(t)
	// SFRA style: everything in the query string of a POST, empty body.
	q := h.params(escott.OpTokenSearch, "Token", h.token(DemoCard))
	resp, err := http.Post(h.ts.URL+escott.PathToken+"?"+q.Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := h.readAnswer(resp)
	resp.Body.Close()
	wantCode(t, a, "OK")
	if a.Get("TokenResponseCd") != "OK" || a.Get("OperateId") != "1TokenSearch" {
		t.Fatalf("answer %v", a)
	}
	// And without any Content-Type (SFRA sends one, but the query string
	// is read regardless).
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+escott.PathToken+"?"+q.Encode(), nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.readAnswer(resp), "OK")
	resp.Body.Close()
}

func TestBodyWinsOverQuery(t *testing.T) {
	h := newHarness(t)
	tok := h.token(DemoCard)
	send := func(query, body url.Values, ct string) url.Values {
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+escott.PathToken+"?"+query.Encode(), strings.NewReader(body.Encode()))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return h.readAnswer(resp)
	}
	full := h.params(escott.OpTokenSearch, "Token", tok)
	form := "application/x-www-form-urlencoded"
	// Wrong password in the query, right one in the body: body wins.
	wantCode(t, send(url.Values{"MerchantPass": {"wrong"}}, full, form), "OK")
	// Right password in the query, wrong one in the body: K03.
	wantCode(t, send(full, url.Values{"MerchantPass": {"wrong"}}, form), "K03")
	// An empty body value overrides the query and counts as absent.
	wantCode(t, send(full, url.Values{"TenantId": {""}}, form), "K04")
	// Split across both: fine.
	q, b := url.Values{}, url.Values{}
	for k, v := range full {
		if len(k)%2 == 0 {
			q[k] = v
		} else {
			b[k] = v
		}
	}
	wantCode(t, send(q, b, form+"; charset=UTF-8"), "OK")
	// A body that is not declared form-encoded is not read.
	wantCode(t, send(url.Values{}, full, "text/plain"), "K02|K06|K05")
}

func TestOnlyPOST(t *testing.T) {
	h := newHarness(t)
	resp, err := http.Get(h.ts.URL + escott.PathCard + "?" + h.params(escott.OpSearch).Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || strings.Contains(string(b), "ResponseCd") {
		t.Fatalf("GET: status %d body %q", resp.StatusCode, b)
	}
}

func TestOversizedBodyK01(t *testing.T) {
	h := newHarness(t)
	body := h.params(escott.OpSearch).Encode() + "&Pad=" + strings.Repeat("x", maxRequestBody)
	resp, err := http.Post(h.ts.URL+escott.PathCard, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wantCode(t, h.readAnswer(resp), "K01")
}

func TestCommonValidation(t *testing.T) {
	h := newHarness(t)
	yesterday := escott.TransactionDate(testBase.AddDate(0, 0, -1))
	tomorrow := escott.TransactionDate(testBase.AddDate(0, 0, 1))
	twoDaysAgo := escott.TransactionDate(testBase.AddDate(0, 0, -2))
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name string
		ep   escott.Endpoint // 0: the op's own
		op   escott.OperateID
		kv   []string
		want string
	}{
		{"ok", 0, escott.OpMemRefM, nil, "K71"}, // passes common checks, unknown member
		{"unknown merchant", 0, escott.OpSearch, []string{"MerchantId", "099999999"}, "K02"},
		{"no merchant id", 0, escott.OpSearch, []string{"MerchantId", absent}, "K02"},
		{"unknown merchant still reports K05", 0, escott.OpSearch, []string{"MerchantId", "1", "TransactionDate", "x"}, "K02|K05"},
		{"wrong password", 0, escott.OpSearch, []string{"MerchantPass", "nope"}, "K03"},
		{"no password", 0, escott.OpSearch, []string{"MerchantPass", absent}, "K03"},
		{"password of the other merchant", 0, escott.OpSearch, []string{"MerchantPass", restrictedMerchant.TestPass}, "K03"},
		{"tenant missing", 0, escott.OpMemRefM, []string{"TenantId", absent}, "K04|K45|K46"},
		{"tenant unknown", 0, escott.OpTokenSearch, []string{"TenantId", "0002", "Token", "x"}, "K04"},
		{"tenant empty", 0, escott.OpCapture, []string{"TenantId", "", "ProcessId", "a", "ProcessPass", "b", "SalesDate", "20260401"}, "K04"},
		{"tenant ignored on collection", 0, escott.OpCvsRef, []string{"TenantId", "zzz", "ProcessId", "a", "ProcessPass", "b"}, "K12"},
		{"date garbage", 0, escott.OpTokenSearch, []string{"TransactionDate", "2026-04-01", "Token", "x"}, "K05"},
		{"date missing", 0, escott.OpTokenSearch, []string{"TransactionDate", absent, "Token", "x"}, "K05"},
		{"date not a calendar date", 0, escott.OpTokenSearch, []string{"TransactionDate", "20260230", "Token", "x"}, "K05"},
		{"date two days ago", 0, escott.OpTokenSearch, []string{"TransactionDate", twoDaysAgo, "Token", "x"}, "K05"},
		{"date yesterday ok", 0, escott.OpTokenSearch, []string{"TransactionDate", yesterday, "Token", "x"}, "OK"},
		{"date tomorrow ok", 0, escott.OpTokenSearch, []string{"TransactionDate", tomorrow, "Token", "x"}, "OK"},
		{"1Auth on E2", escott.EndpointMember, escott.OpAuth, nil, "K06"},
		{"2Add on E1 (no TenantId either)", escott.EndpointCard, escott.OpCvsAdd, nil, "K06|K04"},
		{"1TokenSearch on E1", escott.EndpointCard, escott.OpTokenSearch, nil, "K06"},
		{"4MemAdd on E3", escott.EndpointToken, escott.OpMemAdd, nil, "K06"},
		{"1Search on E4", escott.EndpointCollection, escott.OpSearch, nil, "K06"},
		{"3Secure on E1", escott.EndpointCard, escott.OpSecure, nil, "K06"},
		{"unknown op", escott.EndpointCard, "9Foo", nil, "K06"},
		{"empty op", escott.EndpointCard, "", nil, "K06"},
		{"paid pseudo op", escott.EndpointCollection, "paid", nil, "K06"},
		{"MerchantFree1 32 ok", 0, escott.OpTokenSearch, []string{"MerchantFree1", long(32), "Token", "x"}, "OK"},
		{"MerchantFree1 33", 0, escott.OpTokenSearch, []string{"MerchantFree1", long(33), "Token", "x"}, "K07"},
		{"MerchantFree2 64 ok", 0, escott.OpTokenSearch, []string{"MerchantFree2", long(64), "Token", "x"}, "OK"},
		{"MerchantFree2 65", 0, escott.OpTokenSearch, []string{"MerchantFree2", long(65), "Token", "x"}, "K08"},
		{"MerchantFree3 64 kana ok", 0, escott.OpTokenSearch, []string{"MerchantFree3", strings.Repeat("カ", 64), "Token", "x"}, "OK"},
		{"MerchantFree3 65", 0, escott.OpTokenSearch, []string{"MerchantFree3", long(65), "Token", "x"}, "K09"},
		{"MerchantFree1 control char", 0, escott.OpTokenSearch, []string{"MerchantFree1", "a\nb", "Token", "x"}, "K07"},
		{"all at once", 0, escott.OpTokenSearch, []string{"TenantId", absent, "TransactionDate", "1", "MerchantFree1", long(40), "MerchantFree2", long(70), "MerchantFree3", long(70), "Token", "x"}, "K04|K05|K07|K08|K09"},
		{"common and op errors together", 0, escott.OpAuth, []string{"TransactionDate", "1", "Amount", "0", "PayType", "99"}, "K05|K23|K22|K20"},
		{"members disabled", 0, escott.OpMemRefM, []string{"MerchantId", restrictedMerchant.MerchantID, "MerchantPass", restrictedMerchant.TestPass}, "K68"},
		{"member payment, members disabled", 0, escott.OpAuth, []string{"MerchantId", restrictedMerchant.MerchantID, "MerchantPass", restrictedMerchant.TestPass, "KaiinId", "a", "KaiinPass", "b", "Amount", "1", "PayType", "01"}, "K68"},
		{"collection disabled", 0, escott.OpCvsRef, []string{"MerchantId", restrictedMerchant.MerchantID, "MerchantPass", restrictedMerchant.TestPass}, "K06"},
		{"restricted merchant second tenant", 0, escott.OpTokenSearch, []string{"MerchantId", restrictedMerchant.MerchantID, "MerchantPass", restrictedMerchant.ProdPass, "TenantId", "0002", "Token", "x"}, "OK"},
		{"4MemRef alias", 0, opMemRef, nil, "K45|K46"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ep := tc.ep
			if ep == 0 {
				ep = endpointOf(tc.op)
			}
			p := h.params(tc.op, tc.kv...)
			if tc.op == "" {
				p.Del("OperateId")
			}
			if tc.name == "ok" {
				p.Set("KaiinId", "nobody")
				p.Set("KaiinPass", "x")
			}
			a := h.post(ep, p)
			wantCode(t, a, tc.want)
			// Echoes and a fresh TransactionId on every answer.
			if a.Get("OperateId") != string(tc.op) {
				t.Errorf("OperateId echo %q", a.Get("OperateId"))
			}
			for _, k := range []string{"MerchantFree1", "MerchantFree2", "MerchantFree3", "TransactionDate"} {
				if a.Get(k) != p.Get(k) {
					t.Errorf("%s echo %q, sent %q", k, a.Get(k), p.Get(k))
				}
			}
			if !regexp.MustCompile(`^\d{13}$`).MatchString(a.Get("TransactionId")) {
				t.Errorf("TransactionId %q", a.Get("TransactionId"))
			}
		})
	}
}

func TestTransactionIDsIncrease(t *testing.T) {
	h := newHarness(t)
	prev := int64(0)
	for range 5 {
		a := h.do(escott.OpSearch)
		id, _ := strconv.ParseInt(a.Get("TransactionId"), 10, 64)
		if id <= prev {
			t.Fatalf("TransactionId %d after %d", id, prev)
		}
		prev = id
	}
}

// TestWrongPasswordThenKG8: ten wrong passwords answer K03; then the
// merchant is locked (KG8, even with the right password) for 30 minutes
// of simulator time. A right password before the tenth resets the count.
func TestWrongPasswordThenKG8(t *testing.T) {
	h := newHarness(t)
	for range 9 {
		wantCode(t, h.do(escott.OpSearch, "MerchantPass", "wrong"), "K03")
	}
	wantCode(t, h.do(escott.OpSearch), "K10|K11") // right password: count reset
	for range 10 {
		wantCode(t, h.do(escott.OpSearch, "MerchantPass", "wrong"), "K03")
	}
	wantCode(t, h.do(escott.OpSearch, "MerchantPass", "wrong"), "KG8")
	wantCode(t, h.do(escott.OpSearch), "KG8")
	wantCode(t, h.do(escott.OpCvsRef), "KG8")
	// The other merchant is not affected.
	wantCode(t, h.do(escott.OpSearch, "MerchantId", restrictedMerchant.MerchantID, "MerchantPass", restrictedMerchant.TestPass), "K10|K11")
	h.s.Advance(29 * time.Minute)
	wantCode(t, h.do(escott.OpSearch), "KG8")
	h.s.Advance(2 * time.Minute)
	wantCode(t, h.do(escott.OpSearch), "K10|K11")
}

// TestEnvironmentsAreSeparate: the password selects the environment and
// nothing crosses between them.
func TestEnvironmentsAreSeparate(t *testing.T) {
	h := newHarness(t)
	tok := h.token(DemoCard) // test environment
	wantTok := func(pass, want string) {
		t.Helper()
		a := h.do(escott.OpTokenSearch, "MerchantPass", pass, "Token", tok)
		if a.Get("TokenResponseCd") != want {
			t.Fatalf("TokenResponseCd %q, want %q", a.Get("TokenResponseCd"), want)
		}
	}
	wantTok(DemoMerchant.TestPass, "OK")
	wantTok(DemoMerchant.ProdPass, "KHZ")
	pid, ppass := h.auth(escott.OpAuth)
	wantCode(t, h.do(escott.OpSearch, "MerchantPass", DemoMerchant.ProdPass, "ProcessId", pid, "ProcessPass", ppass), "K12")
	if n := len(h.s.Transactions(h.mid, "production")); n != 0 {
		t.Fatalf("%d production transactions", n)
	}
	h.env = "production"
	pid2, _ := h.auth(escott.OpGathering)
	if got := h.txn(pid2).Env; got != "production" {
		t.Fatalf("env %q", got)
	}
}

// TestProcessDirect exercises the contract function the browser half
// uses, with url.Values built in Go.
func TestProcessDirect(t *testing.T) {
	h := newHarness(t)
	p := h.s.process(escott.EndpointCard, h.params(escott.OpGathering, "Token", h.token(DemoCard), "Amount", "100", "PayType", "01"))
	if p.Get("ResponseCd") != "OK" || p.Get("ProcessId") == "" || p.Get("OperateId") != "1Gathering" {
		t.Fatalf("answer %v", p)
	}
	for _, in := range []url.Values{nil, {}, {"OperateId": {"1Auth"}}, {"OperateId": nil}, {"MerchantId": {""}}} {
		for _, ep := range []escott.Endpoint{0, escott.EndpointCard, escott.EndpointMember, escott.EndpointToken, escott.EndpointCollection, 99} {
			if p := h.s.process(ep, in); p.Get("ResponseCd") == "" || p.Get("TransactionId") == "" {
				t.Fatalf("process(%d, %v) = %v", ep, in, p)
			}
		}
	}
}

// fuzzServer is shared by the fuzz function's iterations.
func newFuzzServer(f *testing.F) *Server {
	s, err := New(Config{Merchants: []Merchant{DemoMerchant, restrictedMerchant}, Now: func() time.Time { return testBase }})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	return s
}

// FuzzProcess feeds arbitrary query strings and form bodies to the E1–E4
// handler: it must never panic and must always answer HTTP 200 with a
// form-encoded body that carries ResponseCd, OperateId and TransactionId,
// with a matching Content-Length.
func FuzzProcess(f *testing.F) {
	s := newFuzzServer(f)
	base := "MerchantId=030000001&MerchantPass=demoTestPass01&TenantId=0001&TransactionDate=20260401&MerchantFree1=000482917365"
	f.Add(uint8(1), "", base+"&OperateId=1Auth&Amount=100&PayType=01&Token=abc")
	f.Add(uint8(1), base+"&OperateId=1Search", "ProcessId=x&ProcessPass=y")
	f.Add(uint8(2), "", base+"&OperateId=4MemAdd&KaiinId=k1&KaiinPass=p1&Token=zz")
	f.Add(uint8(3), "", base+"&OperateId=1TokenSearch&Token=%ZZ&Token=2")
	f.Add(uint8(4), "", base+"&OperateId=2Add&Amount=1&PayLimit=202604052359&NameKanji=%E5%B1%B1&NameKana=%E3%83%A4&TelNo=09012345678&ShouhinName=%EF%BC%A1")
	f.Add(uint8(0), "&&==&", "%")
	f.Fuzz(func(t *testing.T, ep uint8, query, body string) {
		e := escott.Endpoint(ep%4 + 1)
		req := httptest.NewRequest(http.MethodPost, e.Path(), strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		b := rec.Body.String()
		if rec.Header().Get("Content-Length") != strconv.Itoa(len(b)) {
			t.Fatalf("Content-Length %q for %d bytes", rec.Header().Get("Content-Length"), len(b))
		}
		v, err := url.ParseQuery(b)
		if err != nil || v.Get("ResponseCd") == "" || v.Get("TransactionId") == "" || !v.Has("OperateId") {
			t.Fatalf("answer %q (%v)", b, err)
		}
		if strings.ContainsAny(b, "\r\n") {
			t.Fatalf("multi-line answer %q", b)
		}
	})
}

// TestKeepAliveClient: a pooled Go client works too; each answer closes
// the connection, and the client reconnects.
func TestKeepAliveClient(t *testing.T) {
	h := newHarness(t)
	for range 3 {
		wantCode(t, h.do(escott.OpSearch), "K10|K11")
	}
	body := h.params(escott.OpSearch).Encode()
	send := func(conn net.Conn, extra string) *http.Response {
		t.Helper()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n%sContent-Length: %d\r\n\r\n%s", escott.PathCard, extra, len(body), body)
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "ResponseCd=") || resp.TransferEncoding != nil || resp.ContentLength != int64(len(b)) {
			t.Fatalf("answer %q te=%v cl=%d", b, resp.TransferEncoding, resp.ContentLength)
		}
		return resp
	}

	// The PHP plugins send Connection: close and read until EOF: the
	// simulator closes after the answer.
	conn, err := net.Dial("tcp", h.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if resp := send(conn, "Connection: close\r\n"); !resp.Close {
		t.Fatal("server did not close after a Connection: close request")
	}
	if n, err := conn.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("connection still open: n=%d err=%v", n, err)
	}

	// A pooling client keeps its connection for the next call.
	conn2, err := net.Dial("tcp", h.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	for range 2 {
		if resp := send(conn2, ""); resp.Close {
			t.Fatal("server closed a keep-alive connection")
		}
	}
}
