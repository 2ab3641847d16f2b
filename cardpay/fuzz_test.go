package cardpay_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/service"
)

// returnEnv is a shop whose checkouts send the browser to the gateway:
// 3-D Secure (E5) or link type (E6).
type returnEnv struct {
	*env
	tb     *paytest.FuzzTB
	cipher *escott.Cipher
	// recv is the receiver, called in the fuzzing goroutine (through a
	// server, which connection is reused would make coverage noisy).
	recv http.Handler
	seq  atomic.Int64
}

// inProcess is a transport that hands each request straight to a
// handler: the gateway's calls reach the simulator without sockets, whose
// timing would make the coverage the fuzzer steers by noisy.
type inProcess struct{ h *atomic.Pointer[sim.Server] }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		r.Body = http.NoBody
	}
	w := httptest.NewRecorder()
	t.h.Load().ServeHTTP(w, r)
	return w.Result(), nil
}

func newReturnEnv(f *testing.F, link bool) *returnEnv {
	tb := paytest.NewFuzzTB(f)
	opt := withCard("three_ds", true)
	if link {
		opt = withCard("link_type", true)
	}
	var s atomic.Pointer[sim.Server]
	inproc := withTransport(func(http.RoundTripper) http.RoundTripper { return inProcess{&s} })
	ci, err := escott.NewCipher(sim.DemoMerchant.AESKey, sim.DemoMerchant.AESIV)
	if err != nil {
		f.Fatal(err)
	}
	e := &returnEnv{env: newEnv(tb, opt, inproc), tb: tb, cipher: ci}
	s.Store(e.Sim)
	e.recv = api.New(api.Config{Service: e.Svc, Logger: e.Log, Now: e.Clock.Now, Cards: e.payer,
		Notifications: api.NotificationHandlers{ThreeDS: e.payer.ThreeDSReturn, ThreeDSMember: e.payer.ThreeDSMemberReturn,
			Link: e.payer.LinkReturn}})
	e.Serve(e.recv)
	return e
}

// checkout starts a checkout that waits for the browser's return and
// gives its order and the MerchantFree1 the return must echo.
func (e *returnEnv) checkout(t *testing.T, link bool) (orderID, mf1 string) {
	t.Helper()
	amount := int64(4200)
	o, err := e.Svc.CreateOrder(e.Ctx, shopID, service.OrderInput{ShopOrderID: fmt.Sprintf("fz-%d", e.seq.Add(1)), Amount: &amount,
		ReturnURL: paytest.ShopReturnURL, Items: []service.ItemInput{{Name: "茶", Quantity: 1, UnitAmount: amount}}})
	if err != nil {
		t.Fatal(err)
	}
	in := cardpay.PayInput{Consent: true}
	if !link {
		tok, err := e.Sim.IssueToken(paytest.DemoID, "test", threeDSOK, cardExp, "", "")
		if err != nil {
			t.Fatal(err)
		}
		in.Token, in.CardPrefix, in.CardholderName = tok, threeDSOK[:6], "TARO YAMADA"
	}
	res, err := e.payer.Pay(e.Ctx, shopID, o.ID, in)
	if err != nil || res.NextAction == nil {
		t.Fatalf("checkout: %+v %v", res, err)
	}
	ev := res.NextAction.Fields["EncryptValue"]
	if link {
		u, err := url.Parse(res.NextAction.URL)
		if err != nil {
			t.Fatal(err)
		}
		ev = u.Query().Get("EncryptValue")
	}
	fields, err := e.cipher.Decrypt(ev)
	if err != nil || fields.Get("MerchantFree1") == "" {
		t.Fatalf("hand-off %q: %v %v", ev, fields, err)
	}
	return o.ID, fields.Get("MerchantFree1")
}

// FuzzBrowserReturn is the shopper's browser coming back from the
// gateway's 3-D Secure page or link-type card page with an encrypted
// result of any content (as only a holder of the shop's AES key could
// make it: the tampered ones are FuzzDecrypt's and FuzzReceiver's). The
// plaintext may name a checkout waiting for this very return (@mf1, its
// order @ord) and the shop's merchant (@mid); the receiver routes it by
// content to the 3-D Secure, link or member handler, which then talks to
// the simulator. Whatever it holds, the answer is never a 5xx nor an
// internal error, and nothing panics.
func FuzzBrowserReturn(f *testing.F) {
	threeDS := "OperateId=3Secure&ResponseCd=OK&SecureResultCode=%s&MerchantFree1=@mf1&MerchantFree2=@ord" +
		"&EncodeXId3D=wfZR5pC9Zx3osM7C%%2F4kjjkMAcaM%%3D&MessageVersionNo3D=2.2.0&TransactionStatus3D=Y&ECI3D=05" +
		"&DSTransactionId=ff98a27f-9c1d-43cc-94bb-60777a58bffe&ThreeDSServerTransactionId=2fd079f7-6b2c-411f-b33b-dae4ebe50e76"
	for _, code := range []string{"0", "1", "2", "8", "9", "x"} {
		f.Add(false, fmt.Sprintf(threeDS, code))
	}
	f.Add(false, "OperateId=3Secure&ResponseCd=U04&SecureResultCode=9&MerchantFree1=@mf1")
	f.Add(false, "OperateId=3Secure&ResponseCd=OK&MerchantFree1=@mf1")
	f.Add(false, "OperateId=4MemAdd&ResponseCd=OK&SecureResultCode=0&MerchantFree1=@mf1&KaiinId=k1i0000001&KaiinPass=1")
	f.Add(false, "OperateId=3Secure&ResponseCd=OK&SecureResultCode=0&MerchantFree1=000000000001")
	f.Add(true, "MerchantId=@mid&OperateId=1Gathering&ResponseCd=OK&MerchantFree1=@mf1&MerchantFree2=@ord&ProcessId=p&ProcessPass=q&TransactionId=1")
	f.Add(true, "MerchantId=@mid&OperateId=1Gathering&ResponseCd=P51&MerchantFree1=@mf1&MerchantFree2=@ord")
	f.Add(true, "MerchantId=@mid&OperateId=1Auth&ResponseCd=G12&MerchantFree1=@mf1&MerchantFree2=@ord")
	f.Add(true, "MerchantId=other&OperateId=1Gathering&ResponseCd=OK&MerchantFree1=@mf1&MerchantFree2=@ord")
	f.Add(true, "MerchantId=@mid&OperateId=4MemAdd&ResponseCd=OK&MerchantFree1=@mf1&KaiinId=k1i0000001&KaiinPass=000000000001")
	f.Add(true, "OperateId=4MemChg&ResponseCd=OK&MerchantFree1=@mf1&SecureResultCode=1")
	f.Add(true, "OperateId=1Gathering&ResponseCd=OK&MerchantFree2=@ord")
	f.Add(true, "OperateId=2Add&ResponseCd=OK")
	envs := map[bool]*returnEnv{false: newReturnEnv(f, false), true: newReturnEnv(f, true)}
	f.Fuzz(func(t *testing.T, link bool, plain string) {
		e := envs[link]
		if strings.Contains(plain, "@mf1") || strings.Contains(plain, "@ord") {
			oid, mf1 := e.checkout(t, link)
			plain = strings.ReplaceAll(strings.ReplaceAll(plain, "@mf1", mf1), "@ord", oid)
		}
		plain = strings.ReplaceAll(plain, "@mid", paytest.DemoID)
		ev := e.cipher.EncryptString(plain)
		before := e.tb.Panics()
		r := httptest.NewRequest("POST", e.Recv+"/escott/notify", strings.NewReader(url.Values{"EncryptValue": {ev}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		e.recv.ServeHTTP(w, r)
		res, body := w.Result(), w.Body.Bytes()
		if n := e.tb.Panics(); n != before {
			t.Fatalf("return %q: recovered panic: %s", plain, e.tb.LastPanic())
		}
		loc := res.Header.Get("Location")
		if res.StatusCode >= 500 || strings.Contains(loc, "error=internal_error") || bytes.Contains(body, []byte("internal_error")) {
			t.Fatalf("return %q: HTTP %d Location %q\n%s", plain, res.StatusCode, loc, body)
		}
		switch {
		case res.StatusCode == http.StatusSeeOther:
			// To the shop, or on to the gateway's page for a second hop.
			if !strings.HasPrefix(loc, paytest.ShopReturnURL+"?") && !strings.HasPrefix(loc, e.SimURL) {
				t.Fatalf("return %q sent the browser to %q", plain, loc)
			}
		case res.StatusCode >= 300 && res.StatusCode < 400:
			t.Fatalf("return %q: HTTP %d", plain, res.StatusCode)
		}
	})
}
