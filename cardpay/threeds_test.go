package cardpay_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
)

// threeDSIn is a 3-D Secure checkout input for a new card.
func (e *env) threeDSIn(number string) cardpay.PayInput {
	in := e.tok(number)
	in.Consent = true
	in.CardholderName = "TARO YAMADA"
	return in
}

// startThreeDS pays and wants the browser sent to the 3-D Secure page.
func (e *env) startThreeDS(o *kessai.Order, in cardpay.PayInput) *cardpay.Result {
	e.T.Helper()
	res, err := e.pay(o, in)
	if err != nil {
		e.T.Fatalf("Pay: %v", err)
	}
	if res.Status != cardpay.StatusRequiresAction || res.NextAction == nil || res.Payment == nil {
		e.T.Fatalf("result %+v", res)
	}
	if res.Payment.State != kessai.PaymentNew {
		e.T.Fatalf("payment %s before 3DS", res.Payment.State)
	}
	return res
}

// stopsPayment are the SecureResultCodes of design A-18.
func stopsPayment(secure string) bool { return secure == "1" || secure == "8" || secure == "9" }

// checkThreeDSOutcome checks a 3DS checkout after its return: stopped
// (payment and order failed, nothing authorised) or paid with the 3DS
// fields (CARD-09, CARD-10, A-18).
func checkThreeDSOutcome(t *testing.T, e *env, o *kessai.Order, res *cardpay.Result, r paytest.Resp, secure string) {
	t.Helper()
	q := outcome(t, r)
	if q.Get("order_id") != o.ID || q.Get("payment_id") != res.Payment.ID {
		t.Fatalf("outcome %v", q)
	}
	p := e.GetPayment(res.Payment.ID)
	if stopsPayment(secure) {
		if q.Get("status") != "failed" || q.Get("error") != "three_d_secure_failed" {
			t.Fatalf("outcome %v for SecureResultCode %s", q, secure)
		}
		paytest.WantState(t, p, kessai.PaymentFailed)
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderFailed)
		if n := len(e.simTxnsOf(o.ID)); n != 0 || e.Calls.Count(escott.OpGathering) != 0 {
			t.Fatalf("authorised after SecureResultCode %s", secure)
		}
		if p.SecureResultCode != secure {
			t.Fatalf("stored SecureResultCode %q, want %q", p.SecureResultCode, secure)
		}
		return
	}
	if q.Get("status") != "succeeded" || q.Get("error") != "" {
		t.Fatalf("outcome %v for SecureResultCode %s", q, secure)
	}
	paytest.WantState(t, p, kessai.PaymentCaptured)
	if p.SecureResultCode != secure || !p.Consent {
		t.Fatalf("payment %+v: SecureResultCode %q consent %v", p.ID, p.SecureResultCode, p.Consent)
	}
	tx := e.oneSimTxn(o.ID)
	// The simulator marks a transaction 3DS only when every 3DS field of
	// the authorisation matched the session it issued (CARD-09: all the
	// fields are passed through).
	if !tx.ThreeDS || tx.Amount != o.Amount || tx.ProcessID != p.ProcessID {
		t.Fatalf("simulator transaction %+v", tx)
	}
	hist := e.History(p.ID)
	if len(hist) == 0 || hist[len(hist)-1].Fields["SecureResultCode"] != secure || hist[len(hist)-1].Fields["Agreement"] != "1" {
		t.Fatalf("history %+v", hist)
	}
}

// TestThreeDSOutcomes drives every frictionless test card of the
// simulator through a 3-D Secure checkout (CARD-09, A-18): 0, 2 and 3 pay
// with the 3DS fields; 1, 8, 9 and a U code stop before authorising.
func TestThreeDSOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct{ number, secure string }{
		{threeDSOK, "0"},
		{"4000000000003105", "1"},
		{"4000000000003204", "2"},
		{"4000000000003303", "3"},
		{"4000000000003808", "8"},
		{"4000000000003907", "9"},
		{"4000000000003022", "9"}, // ResponseCd U04
	}
	for _, tc := range cases {
		t.Run(tc.number, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withCard("three_ds", true))
			o := e.order(4200)
			res := e.startThreeDS(o, e.threeDSIn(tc.number))
			if res.NextAction.Type != "redirect_form" || res.NextAction.Fields["EncryptValue"] == "" {
				t.Fatalf("next action %+v", res.NextAction)
			}
			checkThreeDSOutcome(t, e, o, res, e.back(e.open(res.NextAction)), tc.secure)
		})
	}
}

// TestThreeDSChallenge answers the simulator's challenge page with each
// result a cardholder's issuer can give, on both databases.
func TestThreeDSChallenge(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		for _, secure := range []string{"0", "1", "2", "3", "8", "9"} {
			e := newEnv(t, onDB(db), withCard("three_ds", true))
			o := e.order(3300)
			res := e.startThreeDS(o, e.threeDSIn(visaOK))
			checkThreeDSOutcome(t, e, o, res, e.back(e.challenge(e.open(res.NextAction), secure)), secure)
		}
		// A U code (ResponseCd Uxx, SecureResultCode 9): stopped, and
		// the U code is what the operator sees.
		e := newEnv(t, onDB(db), withCard("three_ds", true))
		o := e.order(3300)
		res := e.startThreeDS(o, e.threeDSIn(visaOK))
		checkThreeDSOutcome(t, e, o, res, e.back(e.challenge(e.open(res.NextAction), "U02")), "9")
		if p := e.GetPayment(res.Payment.ID); !slices.Contains(p.FailureCodes, "U02") {
			t.Fatalf("failure codes %v", p.FailureCodes)
		}
	})
}

// TestThreeDSInputRules: with 3-D Secure the consent (CARD-10) and the
// cardholder name are required before anything reaches the gateway; a
// zero total needs neither and makes no 3DS round trip (CARD-16).
func TestThreeDSInputRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("three_ds", true))
	noConsent := e.threeDSIn(threeDSOK)
	noConsent.Consent = false
	_, err := e.pay(e.order(1000), noConsent)
	wantField(t, err, "consent", "consent_required")
	noName := e.threeDSIn(threeDSOK)
	noName.CardholderName = ""
	_, err = e.pay(e.order(1000), noName)
	wantField(t, err, "cardholder_name", "required")
	if n := e.Calls.Count(""); n != 0 {
		t.Fatalf("%d gateway calls for refused input", n)
	}
	res, err := e.pay(e.order(0), cardpay.PayInput{})
	if err != nil || res.Status != cardpay.StatusSucceeded || res.NextAction != nil {
		t.Fatalf("zero total: %+v %v", res, err)
	}
	if n := e.Calls.Count(""); n != 0 {
		t.Fatalf("%d gateway calls for a zero total", n)
	}
}

// TestThreeDSSavedCard: a saved card pays through 3-D Secure too (spec
// §8: 3Secure with the member ids, then the authorisation with them and
// the 3DS fields), and registering a card during a 3DS checkout stores
// the member before paying with it.
func TestThreeDSSavedCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("three_ds", true))
	o1 := e.order(2000, forCustomer("hanako"))
	in := e.threeDSIn(threeDSOK)
	in.SaveCard = true
	r1 := e.startThreeDS(o1, in)
	checkThreeDSOutcome(t, e, o1, r1, e.back(e.open(r1.NextAction)), "0")
	m, ok := e.member("hanako")
	if !ok {
		t.Fatal("card not saved")
	}
	if tx := e.oneSimTxn(o1.ID); tx.KaiinID != m.KaiinID {
		t.Fatalf("first payment not made with the saved card: %+v", tx)
	}

	o2 := e.order(2600, forCustomer("hanako"))
	r2 := e.startThreeDS(o2, cardpay.PayInput{UseSavedCard: true, Consent: true})
	checkThreeDSOutcome(t, e, o2, r2, e.back(e.open(r2.NextAction)), "0")
	if tx := e.oneSimTxn(o2.ID); tx.KaiinID != m.KaiinID || tx.CardNumber != "4000********3006" {
		t.Fatalf("saved-card payment %+v", tx)
	}
	if p := e.GetPayment(r2.Payment.ID); !p.WithMember {
		t.Fatalf("payment %+v", p)
	}
}

// TestThreeDSReturnReplayedOrTampered: the return is accepted once. A
// replay finds its checkout consumed (409, no second charge); a changed
// EncryptValue does not decrypt (400); a return after the checkout's
// lifetime is refused (spec §8.4, design §4).
func TestThreeDSReturnReplayedOrTampered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("three_ds", true))
	o := e.order(5100)
	res := e.startThreeDS(o, e.threeDSIn(threeDSOK))
	page := e.open(res.NextAction)
	action, ev := paytest.AutoSubmitted(t, page)
	checkThreeDSOutcome(t, e, o, res, e.back(page), "0")

	replay := e.Browse(http.MethodPost, action, url.Values{"EncryptValue": {ev}})
	if replay.Status != http.StatusConflict || !strings.Contains(replay.Body, "return_already_processed") {
		t.Fatalf("replay: HTTP %d\n%s", replay.Status, replay.Body)
	}
	if n := len(e.simTxnsOf(o.ID)); n != 1 {
		t.Fatalf("%d transactions after a replay", n)
	}

	o2 := e.order(5200)
	res2 := e.startThreeDS(o2, e.threeDSIn(threeDSOK))
	action2, ev2 := paytest.AutoSubmitted(t, e.open(res2.NextAction))
	b := []byte(ev2)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	tampered := e.Browse(http.MethodPost, action2, url.Values{"EncryptValue": {string(b)}})
	if tampered.Status != http.StatusBadRequest {
		t.Fatalf("tampered return: HTTP %d\n%s", tampered.Status, tampered.Body)
	}
	if p := e.GetPayment(res2.Payment.ID); p.State != kessai.PaymentNew || len(e.simTxnsOf(o2.ID)) != 0 {
		t.Fatalf("tampered return moved payment %s", p.State)
	}
	// The genuine return still works afterwards.
	if r := e.Browse(http.MethodPost, action2, url.Values{"EncryptValue": {ev2}}); r.Status != http.StatusSeeOther {
		t.Fatalf("genuine return after a tampered one: HTTP %d\n%s", r.Status, r.Body)
	}
	paytest.WantState(t, e.GetPayment(res2.Payment.ID), kessai.PaymentCaptured)

	o3 := e.order(5300)
	res3 := e.startThreeDS(o3, e.threeDSIn(threeDSOK))
	action3, ev3 := paytest.AutoSubmitted(t, e.open(res3.NextAction))
	e.Clock.Advance(cardpay.DefaultSessionTTL + time.Minute)
	late := e.Browse(http.MethodPost, action3, url.Values{"EncryptValue": {ev3}})
	if late.Status != http.StatusConflict || !strings.Contains(late.Body, "return_session_expired") {
		t.Fatalf("late return: HTTP %d\n%s", late.Status, late.Body)
	}
	if n := len(e.simTxnsOf(o3.ID)); n != 0 {
		t.Fatalf("late return charged: %d transactions", n)
	}
}

// TestThreeDSStopKeepsSecureResultCode: a payment stopped by 3-D Secure
// keeps the SecureResultCode that stopped it (3D認証結果, A-18, ADMIN-02).
func TestThreeDSStopKeepsSecureResultCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("three_ds", true))
	o := e.order(3000)
	res := e.startThreeDS(o, e.threeDSIn("4000000000003105")) // SecureResultCode 1
	if q := outcome(t, e.back(e.open(res.NextAction))); q.Get("error") != "three_d_secure_failed" {
		t.Fatalf("outcome %v", q)
	}
	p := e.GetPayment(res.Payment.ID)
	paytest.WantState(t, p, kessai.PaymentFailed)
	if p.SecureResultCode != "1" {
		t.Errorf("stored SecureResultCode %q, want \"1\" (failure codes %v)", p.SecureResultCode, p.FailureCodes)
	}
}

// TestThreeDSThenDeclineOrLost: after 3-D Secure the authorisation can
// still be declined (the order fails) or lose its answer (the browser is
// told the outcome is unknown).
func TestThreeDSThenDeclineOrLost(t *testing.T) {
	t.Parallel()
	t.Run("declined", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withCard("three_ds", true))
		o := e.order(3000)
		res := e.startThreeDS(o, e.threeDSIn(declineCd))
		q := outcome(t, e.back(e.challenge(e.open(res.NextAction), "0")))
		if q.Get("status") != "failed" || q.Get("error") != "payment_failed" {
			t.Fatalf("outcome %v", q)
		}
		p := e.GetPayment(res.Payment.ID)
		paytest.WantState(t, p, kessai.PaymentFailed)
		if !slices.Equal(p.FailureCodes, []string{"G55"}) {
			t.Fatalf("codes %v", p.FailureCodes)
		}
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderFailed)
	})
	t.Run("lost", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withCard("three_ds", true))
		o := e.order(3000)
		res := e.startThreeDS(o, e.threeDSIn(threeDSOK))
		page := e.open(res.NextAction)
		e.Sim.AddFault(sim.Fault{Kind: sim.FaultReset, Op: escott.OpGathering, After: true, Times: 1})
		q := outcome(t, e.back(page))
		if q.Get("status") != "unknown" || q.Get("error") != "payment_unknown" {
			t.Fatalf("outcome %v", q)
		}
		paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentUnknown)
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderPending)
		if n := len(e.simTxnsOf(o.ID)); n != 1 {
			t.Fatalf("%d transactions", n)
		}
	})
}
