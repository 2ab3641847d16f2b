package cvspay_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/service"
)

// inProcess hands the gateway's requests straight to the simulator:
// without sockets, whose timing would make the fuzzer's coverage noisy.
type inProcess struct{ s *atomic.Pointer[sim.Server] }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		r.Body = http.NoBody
	}
	w := httptest.NewRecorder()
	t.s.Load().ServeHTTP(w, r)
	return w.Result(), nil
}

// FuzzNotification is a payment notification (入金結果通知) of any
// content sent to the receiver by GET or POST, as the gateway — or
// anyone who knows the URL — can. The fields may name a collection
// registered just before and still unpaid (@mf1, its order @ord), one
// the shopper paid (@pmf1, @pord) and the shop's merchant (@mid).
// Whatever arrives: the receiver answers 200 with an empty body to
// anything that looks like a notification and never 5xx, nothing
// panics, a notification never marks an unpaid collection paid (the
// gateway's 2Ref decides, and it says unpaid), and the paid one stays
// paid, its history untouched.
func FuzzNotification(f *testing.F) {
	n := "MerchantId=@mid&TransactionId=1000000000001&RecvNum=R123&NyukinDate=20260401130000&MerchantFree1=%s&MerchantFree2=%s&CvsCd=SEV&Amount=%s"
	f.Add(true, fmt.Sprintf(n, "@mf1", "@ord", "1100"))
	f.Add(false, fmt.Sprintf(n, "@mf1", "@ord", ""))
	f.Add(true, fmt.Sprintf(n, "@pmf1", "@pord", "1100"))
	f.Add(true, fmt.Sprintf(n, "@mf1", "@pord", "1"))
	f.Add(true, fmt.Sprintf(n, "@pmf1", "@ord", "-1"))
	f.Add(true, strings.Replace(fmt.Sprintf(n, "@mf1", "@ord", "1"), "@mid", "030000002", 1))
	f.Add(false, strings.Replace(fmt.Sprintf(n, "999999999999", "@ord", "1"), "20260401130000", "20261301", 1))
	f.Add(true, "MerchantId=@mid&TransactionId=1&RecvNum=1&NyukinDate=20260401&MerchantFree1=@mf1&MerchantFree2=@ord&wc-api=wc_sonypayment")
	f.Add(false, "MerchantId=%20&TransactionId=1&RecvNum=1&NyukinDate=1&MerchantFree1=1&MerchantFree2=1")
	f.Add(true, "EncryptValue=AAAA&MerchantId=@mid")
	f.Add(true, "")

	tb := paytest.NewFuzzTB(f)
	var s atomic.Pointer[sim.Server]
	e := paytest.Start(tb, paytest.Options{
		Sim:       func(c *sim.Config) { c.NotifyRetry = []time.Duration{10 * time.Millisecond} },
		Transport: func(http.RoundTripper) http.RoundTripper { return inProcess{&s} },
	})
	s.Store(e.Sim)
	col := cvspay.New(cvspay.Config{Service: e.Svc, Gateways: e.Gateways, Logger: e.Log})
	recv := api.New(api.Config{Service: e.Svc, Logger: e.Log, Now: e.Clock.Now, Notifications: api.NotificationHandlers{Collection: col.Notify}})
	e.Serve(recv)
	d := sim.DemoMerchant
	e.Settings(map[string]any{"environment": "simulator", "plan": "pro", "collection": map[string]any{
		"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass, "due_days": 7}})
	ctx := context.Background()
	var seq atomic.Int64
	register := func(t testing.TB) (*kessai.Payment, string) {
		amount := int64(1100)
		o, err := e.Svc.CreateOrder(ctx, paytest.ShopID, service.OrderInput{ShopOrderID: fmt.Sprintf("fz-%d", seq.Add(1)), Amount: &amount,
			Billing: &kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ヤマダ", FirstNameKana: "タロウ", Phone: "090-1234-5678"},
			Items:   []service.ItemInput{{Name: "茶", Quantity: 1, UnitAmount: amount}}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := col.Register(ctx, paytest.ShopID, o.ID, cvspay.RegisterInput{})
		if err != nil || res.Payment == nil {
			t.Fatalf("register: %+v %v", res, err)
		}
		return res.Payment, o.ID
	}
	// The collection the shopper paid, its notification delivered.
	paid, paidOrder := register(f)
	if err := e.Sim.PayCollection(paytest.DemoID, "test", paid.FreeArea, "SEV"); err != nil {
		f.Fatal(err)
	}
	flush, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := e.Sim.FlushNotifications(flush); err != nil {
		f.Fatal(err)
	}
	history := func(t testing.TB, id string) int {
		h, err := e.Store.ListHistory(ctx, paytest.ShopID, id)
		if err != nil {
			t.Fatal(err)
		}
		return len(h)
	}
	paidHistory := history(f, paid.ID)
	if p, err := e.Store.GetPayment(ctx, paytest.ShopID, paid.ID); err != nil || p.State != kessai.PaymentPaid {
		f.Fatalf("the paid collection: %+v %v", p, err)
	}

	f.Fuzz(func(t *testing.T, post bool, fields string) {
		var fresh *kessai.Payment
		if strings.Contains(fields, "@mf1") || strings.Contains(fields, "@ord") {
			var oid string
			fresh, oid = register(t)
			fields = strings.ReplaceAll(strings.ReplaceAll(fields, "@mf1", fresh.TransactionCode), "@ord", oid)
		}
		fields = strings.NewReplacer("@pmf1", paid.TransactionCode, "@pord", paidOrder, "@mid", paytest.DemoID).Replace(fields)
		r := httptest.NewRequest("GET", e.Recv+"/escott/notify", nil)
		r.URL.RawQuery = fields
		if post {
			r = httptest.NewRequest("POST", e.Recv+"/escott/notify", strings.NewReader(fields))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		before := tb.Panics()
		w := httptest.NewRecorder()
		recv.ServeHTTP(w, r)
		if tb.Panics() != before {
			t.Fatalf("%q: recovered panic: %s", fields, tb.LastPanic())
		}
		if w.Code >= 500 {
			t.Fatalf("%q: HTTP %d %s", fields, w.Code, w.Body)
		}
		if v, err := url.ParseQuery(fields); err == nil && escott.IsNotification(v) && (w.Code != http.StatusOK || w.Body.Len() != 0) {
			t.Fatalf("notification %q answered %d %q", fields, w.Code, w.Body)
		}
		if fresh != nil {
			p, err := e.Store.GetPayment(ctx, paytest.ShopID, fresh.ID)
			if err != nil || p.State != kessai.PaymentPending {
				t.Fatalf("notification %q left the unpaid collection %+v (%v)", fields, p, err)
			}
		}
		if p, err := e.Store.GetPayment(ctx, paytest.ShopID, paid.ID); err != nil || p.State != kessai.PaymentPaid || history(t, paid.ID) != paidHistory {
			t.Fatalf("notification %q changed the paid collection: %+v %v", fields, p, err)
		}
	})
}
