package cvspay_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/collection"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
)

// manualFeeTable is the manual's example (SET-16, CVS-04): 0–1100 → 0,
// 1101–5500 → 330, 5501– → 550, with "*" for "no upper bound".
var manualFeeTable = []map[string]any{
	{"from": 0, "to": 1100, "fee": 0},
	{"from": 1101, "to": 5500, "fee": 330},
	{"from": 5501, "to": "*", "fee": 550},
}

// TestRegister covers a checkout registration end to end (CVS-01 …
// CVS-06, CVS-08, A-04, A-05, A-06): the 2Add fields the gateway received,
// the fee added once as its own line, the payment, the order on hold, the
// history, the events, and the shopper's details and e-mail text.
func TestRegister(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCollection("fee_enabled", true, "fee_rows", manualFeeTable))
		for _, c := range []struct {
			total, fee int64
		}{
			{1100, 0}, {1101, 330}, {5500, 330}, {5501, 550}, // CVS-04's examples
		} {
			t.Run(fmt.Sprint(c.total), func(t *testing.T) {
				o := e.order(c.total, named("Tシャツ Lｻｲｽﾞ", "ほうじ茶"))
				res := e.register(o)
				want := c.total + c.fee
				if res.Status != cvspay.StatusPending || res.Replayed {
					t.Fatalf("result %+v", res)
				}
				pay := res.Payment
				paytest.WantState(t, pay, kessai.PaymentPending)
				if pay.Method != kessai.MethodCollection || pay.Amount != want || pay.Fee != c.fee || pay.Operation != escott.OpCvsAdd {
					t.Fatalf("payment %+v", pay)
				}
				// The gateway got the spec §10.2 fields.
				sc := e.simCollection(pay.TransactionCode)
				if sc.Amount != want || sc.MerchantFree2 != o.ID || sc.Status != "UNPAID" {
					t.Fatalf("gateway collection %+v", sc)
				}
				if sc.NameKanji != "山田太郎" || sc.NameKana != "ヤマダタロウ" || sc.TelNo != "090-1234-5678" {
					t.Fatalf("names/phone at the gateway: %q %q %q", sc.NameKanji, sc.NameKana, sc.TelNo)
				}
				if sc.ShouhinName != "Ｔシャツ　Ｌサイズ、他" { // 「、他」 for several items
					t.Fatalf("ShouhinName = %q", sc.ShouhinName)
				}
				if sc.PayLimit != "202604082359" || pay.PayLimit != sc.PayLimit { // 1 April + 7 days (CVS-05)
					t.Fatalf("PayLimit = %q / %q", sc.PayLimit, pay.PayLimit)
				}
				if sc.ReturnURL != paytest.ShopReturnURL {
					t.Fatalf("ReturnURL = %q", sc.ReturnURL)
				}
				// The order: on hold, with one fee line (CVS-04, CVS-06).
				got := e.GetOrder(o.ID)
				paytest.WantStatus(t, got, kessai.OrderOnHold)
				if got.Amount != want || collection.CurrentFee(got) != c.fee {
					t.Fatalf("order amount %d fee %d, want %d %d", got.Amount, collection.CurrentFee(got), want, c.fee)
				}
				feeLines := 0
				for _, it := range got.Items {
					if it.Fee {
						feeLines++
						if it.Name != collection.FeeLineName || it.Total() != c.fee {
							t.Fatalf("fee line %+v", it)
						}
					}
				}
				if (c.fee > 0) != (feeLines == 1) || feeLines > 1 {
					t.Fatalf("%d fee lines for fee %d: %+v", feeLines, c.fee, got.Items)
				}
				// History: the 2Add answer with PayLimit and Amount added.
				hs := e.History(pay.ID)
				if len(hs) != 1 || hs[0].Operation != escott.OpCvsAdd || hs[0].ResponseCd != "OK" ||
					hs[0].Fields["PayLimit"] != sc.PayLimit || hs[0].Fields["Amount"] != fmt.Sprint(want) ||
					hs[0].Fields["ProcessId"] != sc.ProcessID || hs[0].Fields["ProcessPass"] == sc.ProcessPass {
					t.Fatalf("history %+v", hs)
				}
				// Events: payment.pending with the details; the order on
				// hold; never processing (CVS-06).
				wantList(t, "payment events", e.EventsAbout(pay.ID), []string{kessai.EventPaymentPending})
				wantList(t, "order events", e.EventsAbout(o.ID), []string{kessai.EventOrderCreated, kessai.EventOrderUpdated})
				var ev struct {
					ID         string         `json:"id"`
					State      string         `json:"state"`
					Collection cvspay.Details `json:"collection"`
				}
				if err := json.Unmarshal(e.lastEvent(kessai.EventPaymentPending, pay.ID), &ev); err != nil {
					t.Fatal(err)
				}
				if ev.State != "pending" || ev.Collection.Amount != want || ev.Collection.Fee != c.fee ||
					!strings.Contains(ev.Collection.PaymentURL, "code="+sc.FreeArea) || ev.Collection.Instructions == "" {
					t.Fatalf("payment.pending data %+v", ev)
				}
				// What the shop front and e-mails get (CVS-08, A-06).
				d := res.Collection
				if d == nil || d.Amount != want || d.Fee != c.fee || d.PayLimit != sc.PayLimit ||
					!d.DueAt.Equal(time.Date(2026, 4, 8, 23, 59, 59, 0, escott.JST)) || d.Due != "2026年4月8日 23:59" {
					t.Fatalf("details %+v", d)
				}
				link, _ := url.Parse(d.PaymentURL)
				if link.Path != escott.PathAgentTest || link.Query().Get("code") != sc.FreeArea || link.Query().Get("rkbn") != "2" {
					t.Fatalf("payment URL %s", d.PaymentURL)
				}
				next, _ := url.Parse(res.NextAction.URL)
				if res.NextAction.Type != "redirect" || next.Query().Get("rkbn") != "1" || next.Query().Get("code") != sc.FreeArea {
					t.Fatalf("next action %+v", res.NextAction)
				}
				if !strings.Contains(d.Instructions, "お支払いURL: "+d.PaymentURL) || !strings.Contains(d.Instructions, "2026年4月8日 23:59") {
					t.Fatalf("instructions:\n%s", d.Instructions)
				}
				if c.fee > 0 && !strings.Contains(d.Instructions, fmt.Sprintf("（うち決済手数料 %s円）", yen(c.fee))) {
					t.Fatalf("instructions without the fee:\n%s", d.Instructions)
				}
				if !strings.Contains(d.InstructionsEn, "Payment URL: "+d.PaymentURL) {
					t.Fatalf("English instructions:\n%s", d.InstructionsEn)
				}
				// The agent page shows the payment (E8).
				if code := e.getAgent(res.NextAction.URL); code != 200 {
					t.Fatalf("agent page: HTTP %d", code)
				}
			})
		}
	})
}

func yen(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestRegisterIdempotent: one active collection per order. Registering
// again returns the same registration (no second 2Add, no second fee), and
// concurrent registrations reach the gateway once (CVS-04 "the fee is added
// once", design §4).
func TestRegisterIdempotent(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCollection("fee_enabled", true, "fee_rows", manualFeeTable))
		o := e.order(3000)
		first := e.register(o)
		again := e.register(o)
		if !again.Replayed || again.Payment.ID != first.Payment.ID || again.NextAction.URL != first.NextAction.URL {
			t.Fatalf("second Register = %+v", again)
		}
		if n := e.Calls.Count(escott.OpCvsAdd); n != 1 {
			t.Fatalf("%d 2Add calls", n)
		}
		if got := e.GetOrder(o.ID); got.Amount != 3330 || collection.CurrentFee(got) != 330 {
			t.Fatalf("order after two registrations: amount %d fee %d", got.Amount, collection.CurrentFee(got))
		}

		testdb.WarmPool(t, e.Store, 4)
		o2 := e.order(3000)
		var wg sync.WaitGroup
		results := make([]*cvspay.Result, 4)
		errs := make([]error, 4)
		for i := range 4 {
			wg.Go(func() { results[i], errs[i] = e.col.Register(e.Ctx, shopID, o2.ID, cvspay.RegisterInput{}) })
		}
		wg.Wait()
		pays := map[string]bool{}
		for i := range 4 {
			switch {
			case errs[i] == nil:
				pays[results[i].Payment.ID] = true
			default:
				wantErr(t, errs[i], kessai.KindConflict, "payment_in_progress")
			}
		}
		if len(pays) != 1 || len(e.simCollectionsOf(o2.ID)) != 1 || e.Calls.Count(escott.OpCvsAdd) != 2 {
			t.Fatalf("concurrent registrations: payments %v, gateway collections %d, 2Add calls %d",
				pays, len(e.simCollectionsOf(o2.ID)), e.Calls.Count(escott.OpCvsAdd))
		}
		if got := e.GetOrder(o2.ID); got.Amount != 3330 {
			t.Fatalf("order amount %d after concurrent registrations", got.Amount)
		}
	})
}

// TestRegisterValidation: the billing identity is checked on the server
// before anything is sent (CVS-02: kana required at checkout; phone
// normalised or refused), all problems at once.
func TestRegisterValidation(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name   string
		b      kessai.Billing
		fields []string
	}{
		{"no kana", kessai.Billing{LastName: "山田", FirstName: "太郎", Phone: "0312345678"},
			[]string{"billing.last_name_kana", "billing.first_name_kana"}},
		{"blank kana and bad phone", kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "　", FirstNameKana: "タロウ", Phone: "03-1234"},
			[]string{"billing.last_name_kana", "billing.phone"}},
		{"no name", kessai.Billing{LastNameKana: "ヤマダ", FirstNameKana: "タロウ", Phone: "090-1234-5678"},
			[]string{"billing.last_name", "billing.first_name"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := e.order(1000, billing(c.b))
			_, err := e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
			var v kessai.ValidationErrors
			if !asValidation(err, &v) {
				t.Fatalf("error %v, want validation errors", err)
			}
			var got []string
			for _, fe := range v {
				got = append(got, fe.Field)
			}
			wantList(t, "fields", got, c.fields)
			if len(e.Payments(o.ID)) != 0 || e.GetOrder(o.ID).Status != kessai.OrderPending {
				t.Fatal("a refused checkout left a payment or changed the order")
			}
		})
	}
	if n := e.Calls.Count(""); n != 0 {
		t.Fatalf("%d gateway calls for invalid input", n)
	}
	// A phone without hyphens is sent as it is (collection.TelNo); the
	// kana typed in hiragana goes as full-width katakana (CVS-03).
	o := e.order(1000, billing(kessai.Billing{LastName: "佐藤", FirstName: "花子", LastNameKana: "さとう", FirstNameKana: "ﾊﾅｺ", Phone: "09012345678"}))
	res := e.register(o)
	if sc := e.simCollection(res.Payment.TransactionCode); sc.TelNo != "09012345678" || sc.NameKana != "サトウハナコ" || sc.ShouhinName != "Ｔシャツ" {
		t.Fatalf("gateway fields %+v", sc)
	}
}

func asValidation(err error, v *kessai.ValidationErrors) bool {
	ve, ok := err.(kessai.ValidationErrors)
	if ok {
		*v = ve
	}
	return ok
}

// TestRegisterRefused: a refused 2Add fails the payment and the order
// (CVS-07) and leaves no fee line; a retry registers with the fee once.
func TestRegisterRefused(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCollection("fee_enabled", true, "fee_rows", manualFeeTable))
		o := e.order(2000)
		e.Sim.AddFault(sim.Fault{Op: escott.OpCvsAdd, Kind: sim.FaultResponseCode, ResponseCd: "W02", Times: 1})
		_, err := e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
		f := wantFailure(t, err, kessai.KindDeclined, "payment_failed")
		if f.Err.Ja != "支払い処理に失敗しました。再度お試しください。" || len(f.Codes) != 1 || f.Codes[0] != "W02" {
			t.Fatalf("failure %+v %+v", f, f.Err)
		}
		failedPay := e.GetPayment(f.PaymentID)
		paytest.WantState(t, failedPay, kessai.PaymentFailed)
		got := e.GetOrder(o.ID)
		paytest.WantStatus(t, got, kessai.OrderFailed)
		if got.Amount != 2000 || collection.CurrentFee(got) != 0 {
			t.Fatalf("failed order amount %d fee %d", got.Amount, collection.CurrentFee(got))
		}
		wantList(t, "history", e.ops(failedPay.ID), []string{"2Add:W02"})
		wantList(t, "payment events", e.EventsAbout(failedPay.ID), []string{kessai.EventPaymentFailed})

		// The shopper retries (CVS-07: back to checkout).
		res := e.register(o)
		got = e.GetOrder(o.ID)
		paytest.WantStatus(t, got, kessai.OrderOnHold)
		if res.Payment.Amount != 2330 || got.Amount != 2330 || collection.CurrentFee(got) != 330 {
			t.Fatalf("retry: payment %d, order %d fee %d", res.Payment.Amount, got.Amount, collection.CurrentFee(got))
		}
	})
}

// TestRegisterLostAnswer is design gap #25 for collections: the gateway
// registered but the answer was lost. The payment is unknown, the shopper
// is told not to try again, a second checkout does not register again, and
// the operator resolves it with the ProcessId from the console.
func TestRegisterLostAnswer(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCollection("fee_enabled", true, "fee_rows", manualFeeTable))
		o := e.order(2000)
		e.Sim.AddFault(sim.Fault{Op: escott.OpCvsAdd, Kind: sim.FaultEmptyBody, After: true, Times: 1})
		_, err := e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
		f := wantFailure(t, err, kessai.KindUnknown, "payment_unknown")
		pay := e.GetPayment(f.PaymentID)
		paytest.WantState(t, pay, kessai.PaymentUnknown)
		atts := e.Attempts(pay.ID)
		if len(atts) != 1 || atts[0].Status != kessai.AttemptUnknown || atts[0].MerchantFree1 != pay.TransactionCode {
			t.Fatalf("attempts %+v", atts)
		}
		if len(e.History(pay.ID)) != 0 {
			t.Fatal("a lost answer wrote a history row")
		}
		wantList(t, "payment events", e.EventsAbout(pay.ID), []string{kessai.EventPaymentUnknown})
		// The fee stays on the order: the gateway may hold that amount.
		if got := e.GetOrder(o.ID); got.Amount != 2330 || got.Status != kessai.OrderPending {
			t.Fatalf("order %d %s", got.Amount, got.Status)
		}

		// Not retried: neither by a second checkout nor by an operator.
		_, err = e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
		wantErr(t, err, kessai.KindConflict, "payment_unknown")
		_, err = e.col.RegisterFromAdmin(e.Ctx, shopID, o.ID, cvspay.AdminRegisterInput{})
		wantErr(t, err, kessai.KindConflict, "payment_unknown")
		_, err = e.col.Cancel(e.Ctx, shopID, pay.ID)
		wantErr(t, err, kessai.KindConflict, "payment_unknown")
		if n := e.Calls.Count(escott.OpCvsAdd); n != 1 {
			t.Fatalf("%d 2Add calls: a lost answer was retried", n)
		}
		sc := e.simCollectionsOf(o.ID)
		if len(sc) != 1 {
			t.Fatalf("%d registrations at the gateway", len(sc))
		}

		// A notification for it cannot be checked and is refused.
		err = e.col.Notify(e.Ctx, shopID, &escott.Notification{MerchantID: paytest.DemoID, TransactionID: "1", RecvNum: "1",
			NyukinDate: "20260401120000", MerchantFree1: pay.TransactionCode, MerchantFree2: o.ID})
		wantErr(t, err, kessai.KindConflict, cvspay.CodeNotificationRejected)

		// Wrong handle: refused without writing anything.
		_, err = e.col.Resolve(e.Ctx, shopID, pay.ID, cvspay.ResolveInput{Outcome: "succeeded", ProcessID: sc[0].ProcessID, ProcessPass: "wrong"})
		wantErr(t, err, kessai.KindInvalid, "process_not_found")
		// The operator enters the handle and payment code from the console.
		v, err := e.col.Resolve(e.Ctx, shopID, pay.ID, cvspay.ResolveInput{Outcome: "succeeded",
			ProcessID: sc[0].ProcessID, ProcessPass: sc[0].ProcessPass, FreeArea: sc[0].FreeArea})
		if err != nil {
			t.Fatal(err)
		}
		if v.State.Kind != kessai.PaymentPending || v.Collection == nil || !strings.Contains(v.Collection.PaymentURL, sc[0].FreeArea) {
			t.Fatalf("resolved view %+v", v)
		}
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderOnHold)
		// Now it can be paid and the notification is believed.
		e.payAt(v.Collection.PaymentURL, "LSN")
		paytest.WantState(t, e.GetPayment(pay.ID), kessai.PaymentPaid)
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
	})
}

// TestResolveFailed: an unknown registration the console does not show is
// resolved as failed: the order fails, loses the fee line and can be paid
// again.
func TestResolveFailed(t *testing.T) {
	e := newEnv(t, withCollection("fee_enabled", true, "fee_rows", manualFeeTable))
	o := e.order(2000)
	e.Sim.AddFault(sim.Fault{Op: escott.OpCvsAdd, Kind: sim.FaultEmptyBody, Times: 1}) // refused before processing, answer lost
	_, err := e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
	f := wantFailure(t, err, kessai.KindUnknown, "payment_unknown")
	_, err = e.col.Resolve(e.Ctx, shopID, f.PaymentID, cvspay.ResolveInput{Outcome: "maybe"})
	wantErr(t, err, kessai.KindInvalid, "invalid_outcome")
	if _, err := e.col.Resolve(e.Ctx, shopID, f.PaymentID, cvspay.ResolveInput{Outcome: "failed"}); err != nil {
		t.Fatal(err)
	}
	paytest.WantState(t, e.GetPayment(f.PaymentID), kessai.PaymentFailed)
	got := e.GetOrder(o.ID)
	paytest.WantStatus(t, got, kessai.OrderFailed)
	if got.Amount != 2000 || collection.CurrentFee(got) != 0 {
		t.Fatalf("order %d fee %d", got.Amount, collection.CurrentFee(got))
	}
	_, err = e.col.Resolve(e.Ctx, shopID, f.PaymentID, cvspay.ResolveInput{Outcome: "failed"})
	wantErr(t, err, kessai.KindConflict, "payment_not_unknown")
	res := e.register(o)
	if res.Payment.Amount != 2330 {
		t.Fatalf("new registration amount %d", res.Payment.Amount)
	}
}

// TestZeroTotal is CVS-12: nothing to pay, no registration, the order is
// paid at once.
func TestZeroTotal(t *testing.T) {
	e := newEnv(t, withCollection("fee_enabled", true, "fee_rows", manualFeeTable))
	o := e.order(0, items(false))
	res := e.register(o)
	if res.Status != cvspay.StatusSucceeded || res.Payment != nil || res.NextAction != nil {
		t.Fatalf("result %+v", res)
	}
	got := e.GetOrder(o.ID)
	paytest.WantStatus(t, got, kessai.OrderProcessing)
	if got.Amount != 0 || len(e.Payments(o.ID)) != 0 || e.Calls.Count("") != 0 {
		t.Fatalf("zero-total order: amount %d, payments %d, calls %d", got.Amount, len(e.Payments(o.ID)), e.Calls.Count(""))
	}
}

// TestRegisterUnavailable: a disabled method is refused before anything
// (SET-19).
func TestRegisterUnavailable(t *testing.T) {
	e := newEnv(t, withCollection("enabled", false))
	o := e.order(1000)
	_, err := e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
	wantErr(t, err, kessai.KindConflict, "collection_unavailable")
}

// TestRegisterReplayedAfterDisabling: switching collections off refuses
// new registrations only. A retried checkout of an order registered before
// gets its registration back (the shopper may hold its payment code
// already), with no gateway call; a new order is refused.
func TestRegisterReplayedAfterDisabling(t *testing.T) {
	e := newEnv(t)
	o := e.order(2000)
	first := e.register(o)
	e.collection("enabled", false)
	again, err := e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
	if err != nil {
		t.Fatalf("retried Register after disabling: %v", err)
	}
	if !again.Replayed || again.Payment.ID != first.Payment.ID || again.NextAction == nil ||
		again.NextAction.URL != first.NextAction.URL || again.Collection == nil {
		t.Fatalf("retried Register = %+v", again)
	}
	if n := e.Calls.Count(escott.OpCvsAdd); n != 1 {
		t.Fatalf("%d 2Add calls", n)
	}
	_, err = e.col.Register(e.Ctx, shopID, e.order(2000).ID, cvspay.RegisterInput{})
	wantErr(t, err, kessai.KindConflict, "collection_unavailable")
	if n := e.Calls.Count(escott.OpCvsAdd); n != 1 {
		t.Fatalf("%d 2Add calls after the refusal", n)
	}
}
