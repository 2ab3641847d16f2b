package securitytest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// collectionOrder creates an order and registers it for online payment
// collection (convenience store etc.), as a shop's server would; it returns
// the order and its pending payment.
func (in *instance) collectionOrder(t *testing.T, shopOrderID string) (order, payment) {
	t.Helper()
	o := in.createOrder(t, shopOrderID, 5500, map[string]any{"billing": map[string]any{
		"last_name": "山田", "first_name": "太郎", "last_name_kana": "ヤマダ", "first_name_kana": "タロウ",
		"email": "taro@example.jp", "phone": "090-1234-5678"}})
	var reg struct {
		Status  string  `json:"status"`
		Payment payment `json:"payment"`
	}
	in.secret(t, "POST", "/v1/orders/"+o.ID+"/collect", map[string]any{}, http.StatusOK, &reg)
	if reg.Status != "pending" || reg.Payment.State != "pending" || len(reg.Payment.TransactionCode) != 12 {
		t.Fatalf("collection registration: %+v", reg)
	}
	return in.order(t, o.ID), reg.Payment
}

// notify posts fields to the gateway receiver as the gateway (or anyone on
// the internet) can, and returns the answer.
func (in *instance) notify(t *testing.T, path string, fields url.Values) *answer {
	t.Helper()
	req, err := http.NewRequest("POST", in.API+path, strings.NewReader(fields.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, plainClient, req)
}

// wantNotificationAnswer: the gateway is always answered 200 with an empty
// body for anything shaped like a payment notification (receiver rule 1):
// it would retry anything else, and a retry cannot make a forgery true.
func wantNotificationAnswer(t *testing.T, a *answer) {
	t.Helper()
	if a.Status != http.StatusOK || len(a.Body) != 0 {
		t.Errorf("notification answered %s, want 200 with an empty body", a)
	}
}

// TestForgedGatewayNotifications sends what an attacker can send to the
// public notification URL — notifications with the wrong merchant, an
// unknown or malformed transaction code, another order, a date that is no
// date, and the right fields for a collection the shopper has not paid —
// and checks that each is answered as the gateway expects (200, empty) and
// believed by nobody: the payment stays pending, the order on hold, no
// payment.paid event, and only the last kind (all fields right) costs a
// gateway call, the 2Ref that proves it false. Then the shopper really
// pays; eight concurrent copies of the genuine notification apply it once,
// and replaying it later (also concurrently, and with altered ids) changes
// nothing and calls nothing.
// Non-notifications are refused with the documented 400 pages.
func TestForgedGatewayNotifications(t *testing.T) {
	t.Parallel()
	in := start(t)
	o, pay := in.collectionOrder(t, "NOTIFY-1")
	if o.Status != "on-hold" {
		t.Fatalf("order %s after registration, want on-hold", o.Status)
	}
	other := in.createOrder(t, "NOTIFY-OTHER", 1000, nil)
	merchant := sim.DemoMerchant.MerchantID
	now := time.Now().In(time.FixedZone("JST", 9*3600)).Format("20060102150405")
	good := func() url.Values {
		return url.Values{"MerchantId": {merchant}, "TransactionId": {"9000000001"}, "RecvNum": {"12345678"},
			"NyukinDate": {now}, "MerchantFree1": {pay.TransactionCode}, "MerchantFree2": {o.ID}, "CvsCd": {"SEV"}}
	}
	with := func(k, v string) url.Values {
		f := good()
		f.Set(k, v)
		return f
	}

	forgeries := []struct {
		name   string
		path   string
		fields url.Values
		// gateway: the forgery may cost one 2Ref (it names the right
		// merchant, order and transaction); all others must be dropped
		// before any gateway call.
		gateway bool
	}{
		{"another merchant", "/escott/notify", with("MerchantId", "099999999"), false},
		{"an unknown transaction code", "/escott/notify", with("MerchantFree1", "000000000001"), false},
		{"a transaction code that is not 12 digits", "/escott/notify", with("MerchantFree1", "1' OR '1'='1"), false},
		{"the transaction code with another order", "/escott/notify", with("MerchantFree2", other.ID), false},
		{"a NyukinDate that is no date", "/escott/notify", with("NyukinDate", "yesterday"), false},
		{"an oversized field", "/escott/notify", with("RecvNum", strings.Repeat("9", 300)), false},
		{"another merchant at the plugins' URL", "/?wc-api=wc_sonypayment", with("MerchantId", "099999999"), false},
		{"all fields right, but the shopper has not paid", "/escott/notify", good(), true},
		{"all fields right, at the plugins' URL", "/?wc-api=wc_sonypayment", good(), true},
	}
	for _, f := range forgeries {
		t.Run(f.name, func(t *testing.T) {
			served := in.simServed(t)
			wantNotificationAnswer(t, in.notify(t, f.path, f.fields))
			calls := in.simServed(t) - served
			if !f.gateway && calls != 0 {
				t.Errorf("the forgery cost %d gateway calls; it must be refused before any", calls)
			}
			if f.gateway && calls > 1 {
				t.Errorf("the forgery cost %d gateway calls, want at most the one 2Ref", calls)
			}
			if p := in.payment(t, pay.ID); p.State != "pending" {
				t.Fatalf("payment %s after the forgery, want pending", p.State)
			}
			if o := in.order(t, o.ID); o.Status != "on-hold" {
				t.Fatalf("order %s after the forgery, want on-hold", o.Status)
			}
		})
	}
	// The same forgery as a GET with the fields in the query (the receiver
	// reads both, like the plugins).
	if a := send(t, plainClient, mustRequest(t, "GET", in.API+"/escott/notify?"+with("MerchantId", "099999999").Encode())); a.Status != http.StatusOK {
		t.Errorf("GET notification: %s", a)
	}
	evs := in.events(t)
	if n := countEvents(evs, "payment.paid"); n != 0 {
		t.Fatalf("%d payment.paid events after forgeries", n)
	}
	if o2 := in.order(t, other.ID); o2.Status != "pending" {
		t.Errorf("the other order is %s after a forgery naming it", o2.Status)
	}

	// Not notifications at all: the documented plain-text 400.
	for _, c := range []struct {
		name, body, contentType, want string
	}{
		{"garbage", "hello", "text/plain", "Bad request\n不正なリクエストです。\n"},
		{"five of the six fields", dropField(good(), "RecvNum").Encode(), "application/x-www-form-urlencoded", "Bad request\n不正なリクエストです。\n"},
		{"an EncryptValue that is not one", "EncryptValue=" + url.QueryEscape("AAAA"+strings.Repeat("x", 40)), "application/x-www-form-urlencoded", "Bad request\nEncryptValue が不正です。\n"},
		{"an EncryptValue under another AES key", "EncryptValue=" + url.QueryEscape(forgedReturn(t)), "application/x-www-form-urlencoded", "Bad request\nEncryptValue が不正です。\n"},
		{"a body over 64 KiB", "MerchantId=" + strings.Repeat("1", 70<<10), "application/x-www-form-urlencoded", "Bad request\n不正なリクエストです。\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := mustRequest(t, "POST", in.API+"/escott/notify")
			req.Body, req.ContentLength = nopBody(c.body), int64(len(c.body))
			req.Header.Set("Content-Type", c.contentType)
			a := send(t, plainClient, req)
			if a.Status != http.StatusBadRequest || string(a.Body) != c.want || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("%s, want 400 %q", a, c.want)
			}
		})
	}

	// The shopper pays. The simulator's genuine notification is held back
	// (a drop fault), so that this test can deliver it itself: many copies
	// at once, each of which 2Ref confirms — the race in which a payment
	// could be applied twice.
	var st struct {
		Collections []struct {
			FreeArea      string `json:"free_area"`
			MerchantFree1 string `json:"merchant_free1"`
		} `json:"collections"`
	}
	in.simJSON(t, "GET", "/_sim/state", nil, &st)
	freeArea := ""
	for _, c := range st.Collections {
		if c.MerchantFree1 == pay.TransactionCode {
			freeArea = c.FreeArea
		}
	}
	if freeArea == "" {
		t.Fatalf("the simulator has no collection %s", pay.TransactionCode)
	}
	in.simJSON(t, "POST", "/_sim/faults", map[string]any{"kind": "drop_notification", "times": 1}, nil)
	in.simJSON(t, "POST", "/_sim/collections/pay", map[string]any{"env": "test", "free_area": freeArea, "cvs": "SEV"}, nil)
	var log []struct {
		Body    string `json:"body"`
		Dropped bool   `json:"dropped"`
	}
	if err := waitFor(10*time.Second, func() bool {
		in.simJSON(t, "GET", "/_sim/notifications", nil, &log)
		return len(log) == 1 && log[0].Dropped
	}); err != nil {
		t.Fatalf("simulator notifications: %+v", log)
	}
	genuine, err := url.ParseQuery(log[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	copyOf := func(f url.Values) url.Values {
		g := url.Values{}
		for k, v := range f {
			g[k] = append([]string(nil), v...)
		}
		return g
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wantNotificationAnswer(t, in.notify(t, "/escott/notify", copyOf(genuine)))
		}()
	}
	wg.Wait()
	if p := in.payment(t, pay.ID); p.State != "paid" {
		t.Fatalf("the genuine notification was not applied: payment %+v", p)
	}

	// Replays once paid, sequential and concurrent, and with the
	// gateway's ids altered, change nothing and cost no gateway call.
	served := in.simServed(t)
	for range 3 {
		wantNotificationAnswer(t, in.notify(t, "/escott/notify", genuine))
	}
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := copyOf(genuine)
			f.Set("TransactionId", "90000000"+string(rune('0'+i)))
			f.Set("RecvNum", "7777777"+string(rune('0'+i)))
			wantNotificationAnswer(t, in.notify(t, "/escott/notify", f))
		}()
	}
	wg.Wait()
	if calls := in.simServed(t) - served; calls != 0 {
		t.Errorf("replays of a notification for a paid collection cost %d gateway calls", calls)
	}
	p := in.payment(t, pay.ID)
	paid := 0
	for _, h := range p.History {
		if h.Operation == "paid" {
			paid++
		}
	}
	if p.State != "paid" || paid != 1 {
		t.Errorf("payment %s with %d \"paid\" history entries after replays, want paid once: %+v", p.State, paid, p.History)
	}
	if o := in.order(t, o.ID); o.Status != "processing" {
		t.Errorf("order %s after payment, want processing", o.Status)
	}
	// Events are written in the same transaction as the change; give the
	// (impossible) duplicates a moment anyway before counting.
	time.Sleep(200 * time.Millisecond)
	if n := countEvents(in.events(t), "payment.paid"); n != 1 {
		t.Errorf("%d payment.paid events, want exactly 1", n)
	}
}

func dropField(f url.Values, k string) url.Values {
	f.Del(k)
	return f
}

// forgedReturn is a well-formed 3-D Secure return encrypted with a key that
// is not the shop's: what an attacker without the AES key can make.
func forgedReturn(t *testing.T) string {
	t.Helper()
	c, err := escott.NewCipher("ATTACKERKEY00001", "ATTACKERIV000001")
	if err != nil {
		t.Fatal(err)
	}
	return c.Encrypt(escott.Params{{Key: "OperateId", Value: "3Secure"}, {Key: "ResponseCd", Value: "OK"},
		{Key: "SecureResultCode", Value: "0"}, {Key: "MerchantFree1", Value: "000000000001"}})
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func nopBody(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
