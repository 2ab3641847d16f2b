package cardpay_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
)

// TestTokenCheckout covers CARD-03 and CARD-14 on both databases: a token
// checkout with 1Gathering captures, with 1Auth authorises; the payment,
// its history, the order and the events are written together, and the
// simulator holds exactly the one transaction they describe.
func TestTokenCheckout(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		for _, tc := range []struct {
			op     escott.OperateID
			state  kessai.PaymentState
			sim    string
			event  string
			status kessai.OrderStatus
		}{
			{escott.OpGathering, kessai.PaymentCaptured, "CAPTURED", kessai.EventPaymentCaptured, kessai.OrderProcessing},
			{escott.OpAuth, kessai.PaymentAuthorized, "AUTH", kessai.EventPaymentAuthorized, kessai.OrderProcessing},
		} {
			t.Run(string(tc.op), func(t *testing.T) {
				e := newEnv(t, onDB(db), withCard("operation", string(tc.op)))
				o := e.order(1100, items(false))
				res := e.mustPay(o, e.tok(visaOK))
				if res.NextAction != nil || res.Order.ID != o.ID {
					t.Fatalf("result %+v", res)
				}
				if got := e.Calls.Since(0); !slices.Equal(got, []escott.OperateID{escott.OpTokenSearch, tc.op}) {
					t.Fatalf("gateway calls %v, want 1TokenSearch then %s", got, tc.op)
				}
				p := e.GetPayment(res.Payment.ID)
				paytest.WantState(t, p, tc.state)
				paytest.WantStatus(t, e.GetOrder(o.ID), tc.status)
				if p.Amount != 1100 || p.Operation != tc.op || p.PayType != escott.PayLump || p.WithMember || p.Method != kessai.MethodCard {
					t.Fatalf("payment %+v", p)
				}
				tx := e.oneSimTxn(o.ID)
				if tx.Status != tc.sim || tx.Amount != 1100 || tx.PayType != "01" || tx.OriginalOp != tc.op || tx.KaiinID != "" ||
					tx.MerchantFree1 != p.TransactionCode || tx.ProcessID != p.ProcessID || tx.ProcessPass != p.ProcessPass {
					t.Fatalf("simulator %+v\npayment %+v", tx, p)
				}
				// The history has the authorisation with the gateway's
				// TransactionId (ADMIN-10) and the handle (ADMIN-20).
				h := e.History(p.ID)
				if len(h) != 1 {
					t.Fatalf("history %+v", h)
				}
				if h[0].Operation != tc.op || h[0].ResponseCd != "OK" || h[0].Amount != 1100 ||
					h[0].TransactionID == "" || h[0].TransactionID != tx.History[0].TransactionID || h[0].Fields["ProcessId"] != tx.ProcessID {
					t.Fatalf("history entry %+v, simulator %+v", h[0], tx.History)
				}
				if strings.Contains(strings.Join(mapValues(h[0].Fields), " "), tx.ProcessPass) {
					t.Fatal("ProcessPass in the history in clear")
				}
				if st := e.state(p.ID); st.Kind != tc.state {
					t.Fatalf("derived state %s", st.Kind)
				}
				// The attempt: written before, finished after.
				if a := e.Attempts(p.ID); len(a) != 1 || a[0].Status != kessai.AttemptSucceeded || a[0].MerchantFree1 != p.TransactionCode || a[0].Operation != tc.op {
					t.Fatalf("attempts %+v", a)
				}
				if got := e.EventsAbout(p.ID); !slices.Equal(got, []string{tc.event}) {
					t.Fatalf("payment events %v, want %s", got, tc.event)
				}
				if got := e.EventsAbout(o.ID); !slices.Equal(got, []string{kessai.EventOrderCreated, kessai.EventOrderUpdated}) {
					t.Fatalf("order events %v", got)
				}
				// CARD-17's other side: a paid order cannot be paid again.
				_, err := e.pay(e.GetOrder(o.ID), e.tok(visaOK))
				wantErr(t, err, kessai.KindConflict, "order_not_payable")
				if n := len(e.simTxnsOf(o.ID)); n != 1 {
					t.Fatalf("%d transactions after a second Pay", n)
				}
			})
		}
	})
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestOrderStatusRule is CARD-15: completed only with the completed
// setting AND 1Gathering AND at least one item, all virtual.
func TestOrderStatusRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		completed bool
		op        escott.OperateID
		items     []bool
		want      kessai.OrderStatus
	}{
		{"completed setting, gathering, all virtual", true, escott.OpGathering, []bool{true, true}, kessai.OrderCompleted},
		{"completed setting, gathering, one physical", true, escott.OpGathering, []bool{true, false}, kessai.OrderProcessing},
		{"completed setting, gathering, no items", true, escott.OpGathering, nil, kessai.OrderProcessing},
		{"completed setting, auth, all virtual", true, escott.OpAuth, []bool{true}, kessai.OrderProcessing},
		{"processing setting, gathering, all virtual", false, escott.OpGathering, []bool{true}, kessai.OrderProcessing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status := "processing"
			if tc.completed {
				status = "completed"
			}
			e := newEnv(t, withCard("operation", string(tc.op), "completed_status", status))
			o := e.order(2000, items(tc.items...))
			e.mustPay(o, e.tok(visaOK))
			paytest.WantStatus(t, e.GetOrder(o.ID), tc.want)
		})
	}
}

// TestDeclines is CARD-17 and ERR-01 for every decline card of the
// simulator: the payment fails with the gateway's code, the order fails,
// the shopper's message never shows the code, and the shopper can retry.
func TestDeclines(t *testing.T) {
	t.Parallel()
	n := 0
	for _, tc := range sim.TestCards {
		if tc.Decline == "" {
			continue
		}
		n++
		t.Run(tc.Decline, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			o := e.order(3300)
			_, err := e.pay(o, e.tok(tc.Number))
			f := wantFailure(t, err, kessai.KindDeclined, "payment_failed")
			if !slices.Equal(f.Codes, []string{tc.Decline}) || f.OrderID != o.ID || f.PaymentID == "" {
				t.Fatalf("failure %+v", f)
			}
			for _, msg := range []string{f.Err.Ja, f.Err.En, f.Error()} {
				if msg == "" || strings.Contains(msg, tc.Decline) {
					t.Fatalf("shopper message %q shows the code %s (ERR-01)", msg, tc.Decline)
				}
			}
			wantJa, _ := escott.ShopperMessage([]string{tc.Decline})
			if f.Err.Ja != wantJa {
				t.Fatalf("message %q, want the %s class message %q", f.Err.Ja, tc.Decline, wantJa)
			}
			p := e.GetPayment(f.PaymentID)
			paytest.WantState(t, p, kessai.PaymentFailed)
			if !slices.Equal(p.FailureCodes, []string{tc.Decline}) {
				t.Fatalf("failure codes %v", p.FailureCodes)
			}
			paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderFailed)
			if h := e.History(p.ID); len(h) != 1 || h[0].ResponseCd != tc.Decline {
				t.Fatalf("history %+v", h)
			}
			if a := e.Attempts(p.ID); len(a) != 1 || a[0].Status != kessai.AttemptFailed {
				t.Fatalf("attempts %+v", a)
			}
			if got := e.EventsAbout(p.ID); !slices.Equal(got, []string{kessai.EventPaymentFailed}) {
				t.Fatalf("events %v", got)
			}
			if n := len(e.simTxnsOf(o.ID)); n != 0 {
				t.Fatalf("%d transactions for a declined card", n)
			}
			// The shopper retries with another card (CARD-17).
			res := e.mustPay(e.GetOrder(o.ID), e.tok(visaOK))
			paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentCaptured)
			paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
			if ps := e.Payments(o.ID); len(ps) != 2 {
				t.Fatalf("payments %+v", ps)
			}
		})
	}
	if n < 5 {
		t.Fatalf("only %d decline cards", n)
	}
}

// TestZeroTotal is CARD-16: no gateway payment, no 3-D Secure, the order
// paid at once; a requested card registration still runs.
func TestZeroTotal(t *testing.T) {
	t.Parallel()
	t.Run("no gateway call", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withCard("three_ds", true))
		o := e.order(0)
		res, err := e.pay(o, cardpay.PayInput{})
		if err != nil || res.Status != cardpay.StatusSucceeded || res.Payment != nil || res.NextAction != nil {
			t.Fatalf("Pay: %+v, %v", res, err)
		}
		if n := e.Calls.Count(""); n != 0 {
			t.Fatalf("%d gateway calls for a zero-total order", n)
		}
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
		if ps := e.Payments(o.ID); len(ps) != 0 {
			t.Fatalf("payments %+v", ps)
		}
		if got := e.EventsAbout(o.ID); !slices.Equal(got, []string{kessai.EventOrderCreated, kessai.EventOrderUpdated}) {
			t.Fatalf("events %v", got)
		}
	})
	t.Run("completed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withCard("completed_status", "completed"))
		o := e.order(0, items(true))
		if _, err := e.pay(o, cardpay.PayInput{}); err != nil {
			t.Fatal(err)
		}
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderCompleted)
	})
	t.Run("save card", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		o := e.order(0, forCustomer("zero1"))
		in := e.tok(visaOK)
		in.SaveCard = true
		if _, err := e.pay(o, in); err != nil {
			t.Fatal(err)
		}
		if got := e.Calls.Since(0); !slices.Equal(got, []escott.OperateID{escott.OpTokenSearch, escott.OpMemAdd}) {
			t.Fatalf("gateway calls %v", got)
		}
		m, ok := e.member("zero1")
		if !ok {
			t.Fatal("member not stored")
		}
		if sm, ok := e.simMember(m.KaiinID); !ok || !sm.Valid || sm.CardNumber != "4012********0008" {
			t.Fatalf("simulator member %+v %v", sm, ok)
		}
		if n := len(e.simTxns()); n != 0 {
			t.Fatalf("%d transactions", n)
		}
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
	})
}

// TestInstallments is CARD-05: the PayType is checked on the server
// against the setting, the brand, link type and subscriptions; a refused
// one is a field error on pay_type and nothing reaches the gateway.
func TestInstallments(t *testing.T) {
	t.Parallel()
	t.Run("allowed", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			number  string
			payType escott.PayType
		}{{visaOK, "03"}, {masterOK, "88"}, {amexOK, "03"}, {"36000000000008", "88"}, {visaOK, "01"}} {
			e := newEnv(t, withCard("installments", "installments"))
			o := e.order(12000)
			in := e.tok(tc.number)
			in.PayType = tc.payType
			res := e.mustPay(o, in)
			if p := e.GetPayment(res.Payment.ID); p.PayType != tc.payType {
				t.Fatalf("%s %s: payment PayType %s", tc.number, tc.payType, p.PayType)
			}
			if tx := e.oneSimTxn(o.ID); tx.PayType != string(tc.payType) {
				t.Fatalf("%s %s: simulator PayType %s", tc.number, tc.payType, tx.PayType)
			}
		}
	})
	for _, tc := range []struct {
		name      string
		card      []any
		number    string
		payType   escott.PayType
		recurring bool
		code      string
	}{
		{"AMEX 02", []any{"installments", "installments"}, amexOK, "02", false, "pay_type_not_for_card"},
		{"AMEX 88", []any{"installments", "installments"}, amexOK, "88", false, "pay_type_not_for_card"},
		{"Diners 03", []any{"installments", "installments"}, "36000000000008", "03", false, "pay_type_not_for_card"},
		{"bonus not enabled", []any{"installments", "installments"}, visaOK, "80", false, "pay_type_bonus_not_accepted"},
		{"lump sum only setting", []any{"installments", "lump_sum_only"}, visaOK, "03", false, "pay_type_lump_sum_only"},
		{"recurring", []any{"installments", "installments_bonus", "members", true}, visaOK, "03", true, "pay_type_subscription"},
		{"not a PayType", []any{"installments", "installments"}, visaOK, "07", false, "invalid_pay_type"},
		{"link type", []any{"installments", "installments", "link_type", true}, "", "03", false, "pay_type_link_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withCard(tc.card...))
			o := e.order(12000, forCustomer("inst1"))
			in := cardpay.PayInput{PayType: tc.payType, Recurring: tc.recurring, Consent: true}
			if tc.number != "" {
				in.Token, in.CardPrefix = e.token(tc.number), tc.number[:6]
			}
			_, err := e.pay(o, in)
			wantField(t, err, "pay_type", tc.code)
			if n := e.Calls.Count(""); n != 0 {
				t.Fatalf("%d gateway calls for a refused PayType: %v", n, e.Calls.Since(0))
			}
			if ps := e.Payments(o.ID); len(ps) != 0 {
				t.Fatalf("payments %+v", ps)
			}
			paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderPending)
		})
	}
}

// TestPayValidation: input errors are field errors, before anything is
// written or sent.
func TestPayValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.order(1000)
	for _, tc := range []struct {
		in    cardpay.PayInput
		field string
		code  string
	}{
		{cardpay.PayInput{}, "token", "required"},
		{cardpay.PayInput{Token: "a b"}, "token", "invalid_token"},
		{cardpay.PayInput{Token: "tok", CardPrefix: "4012000000000008"}, "card_prefix", "invalid_card_prefix"},
		{cardpay.PayInput{Token: "tok", CardholderName: "太郎"}, "cardholder_name", "invalid_cardholder_name"},
		{cardpay.PayInput{Token: "tok", ReturnURL: "http://shop.example/"}, "return_url", ""},
		// A guest can neither save nor use a saved card (design A-25).
		{cardpay.PayInput{Token: "tok", SaveCard: true}, "save_card", "save_card_unavailable"},
		{cardpay.PayInput{UseSavedCard: true}, "use_saved_card", "saved_card_unavailable"},
	} {
		_, err := e.pay(o, tc.in)
		wantField(t, err, tc.field, tc.code)
	}
	if n := e.Calls.Count(""); n != 0 {
		t.Fatalf("%d gateway calls", n)
	}
	if ps := e.Payments(o.ID); len(ps) != 0 {
		t.Fatalf("payments %+v", ps)
	}
	// Cards switched off: the method is unavailable.
	e.card("enabled", false)
	_, err := e.pay(o, e.tok(visaOK))
	wantErr(t, err, kessai.KindConflict, "card_unavailable")
}
