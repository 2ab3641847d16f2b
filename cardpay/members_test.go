package cardpay_test

import (
	"bytes"
	"database/sql"
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

// rawKaiinPasses returns the kaiin_pass column of every member row as
// stored (the store seals it, design: secrets sealed by the store).
func (e *env) rawKaiinPasses() [][]byte {
	e.T.Helper()
	db := e.Store.(interface{ SQL() *sql.DB }).SQL()
	rows, err := db.QueryContext(e.Ctx, `SELECT kaiin_pass FROM members`)
	if err != nil {
		e.T.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			e.T.Fatal(err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		e.T.Fatal(err)
	}
	return out
}

// TestSavedCards covers the saved-card life cycle at checkout on both
// databases: register with save_card (CARD-07, MEMBER-01), pay with the
// saved card (CARD-08), change it and pay (CARD-06 note, design A-02),
// and look it up (MEMBER-03).
func TestSavedCards(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, onDB(db))

		// 1. A new card saved at checkout: 4MemAdd, then the payment
		// with the member, not the token.
		o1 := e.order(1500, forCustomer("alice"))
		in := e.tok(visaOK)
		in.SaveCard = true
		r1 := e.mustPay(o1, in)
		if got := e.Calls.Since(0); !slices.Equal(got, []escott.OperateID{escott.OpTokenSearch, escott.OpMemAdd, escott.OpGathering}) {
			t.Fatalf("gateway calls %v", got)
		}
		m, ok := e.member("alice")
		if !ok || !strings.HasPrefix(m.KaiinID, "kalicei") || len(m.KaiinPass) != 12 {
			t.Fatalf("stored member %+v", m)
		}
		sm, ok := e.simMember(m.KaiinID)
		if !ok || !sm.Valid || sm.CardNumber != "4012********0008" {
			t.Fatalf("simulator member %+v", sm)
		}
		for _, raw := range e.rawKaiinPasses() {
			if len(raw) == 0 || bytes.Contains(raw, []byte(m.KaiinPass)) {
				t.Fatalf("kaiin_pass stored in clear: %q", raw)
			}
		}
		p1 := e.GetPayment(r1.Payment.ID)
		if !p1.WithMember || p1.CustomerID != "alice" {
			t.Fatalf("payment %+v", p1)
		}
		if tx := e.oneSimTxn(o1.ID); tx.KaiinID != m.KaiinID || tx.MerchantFree3 != "alice" {
			t.Fatalf("simulator transaction %+v", tx)
		}
		if !slices.Contains(e.Events(), kessai.EventMemberUpdated) {
			t.Fatalf("no member.updated in %v", e.Events())
		}

		// 2. Paying with the saved card: 4MemRefM, then the member
		// payment; no token.
		n := e.Calls.Count("")
		o2 := e.order(2500, forCustomer("alice"))
		r2 := e.mustPay(o2, cardpay.PayInput{UseSavedCard: true})
		if got := e.Calls.Since(n); !slices.Equal(got, []escott.OperateID{escott.OpMemRefM, escott.OpGathering}) {
			t.Fatalf("gateway calls %v", got)
		}
		if tx := e.oneSimTxn(o2.ID); tx.KaiinID != m.KaiinID || tx.Amount != 2500 || tx.CardNumber != "4012********0008" {
			t.Fatalf("simulator transaction %+v", tx)
		}
		if p := e.GetPayment(r2.Payment.ID); !p.WithMember || p.State != kessai.PaymentCaptured {
			t.Fatalf("payment %+v", p)
		}

		// 3. save_card as a member changes the card (4MemChg), then pays
		// with it (A-02; the plugins paid without updating).
		n = e.Calls.Count("")
		o3 := e.order(3500, forCustomer("alice"))
		in = e.tok(masterOK)
		in.SaveCard = true
		e.mustPay(o3, in)
		if got := e.Calls.Since(n); !slices.Equal(got, []escott.OperateID{escott.OpMemRefM, escott.OpTokenSearch, escott.OpMemChg, escott.OpGathering}) {
			// (The member is looked up first, for the brand of the
			// installment check; spec §11.2 lists 1TokenSearch first.)
			t.Fatalf("gateway calls %v", got)
		}
		m2, _ := e.member("alice")
		if m2.KaiinID != m.KaiinID || m2.KaiinPass != m.KaiinPass {
			t.Fatalf("member ids changed: %+v → %+v", m, m2)
		}
		if sm, _ := e.simMember(m.KaiinID); sm.CardNumber != "5123********0001" {
			t.Fatalf("simulator member after change %+v", sm)
		}
		if tx := e.oneSimTxn(o3.ID); tx.KaiinID != m.KaiinID || tx.CardNumber != "5123********0001" {
			t.Fatalf("simulator transaction %+v", tx)
		}

		// 4. GetCard: masked number and last 4 from the gateway; not
		// deletable while the card's orders are processing (MEMBER-07).
		c, err := e.payer.GetCard(e.Ctx, shopID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if c.CardNumber != "5123********0001" || c.Last4 != "0001" || c.Brand != "visa_master_jcb" || !c.Valid ||
			c.Expiry != cardExp[2:]+"/"+cardExp[:2] || c.CustomerID != "alice" {
			t.Fatalf("card %+v", c)
		}
		if c.Deletable || c.Refusal == nil || c.Refusal.Code != "card_in_use_order" {
			t.Fatalf("deletable %v, refusal %+v", c.Deletable, c.Refusal)
		}
		if strings.Contains(c.CardNumber, "51230000") {
			t.Fatal("card number not masked")
		}
	})
}

// TestAlwaysRegister: with 常にカード会員に登録 a signed-in customer's card
// is saved without asking (SET-09, CARD-07); a guest's is not.
func TestAlwaysRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("always_register", true))
	o := e.order(1000, forCustomer("bob"))
	e.mustPay(o, e.tok(visaOK))
	m, ok := e.member("bob")
	if !ok {
		t.Fatal("not registered")
	}
	if tx := e.oneSimTxn(o.ID); tx.KaiinID != m.KaiinID {
		t.Fatalf("payment not made with the member: %+v", tx)
	}
	guest := e.order(1000)
	e.mustPay(guest, e.tok(visaOK))
	if n := len(e.Sim.Members(paytest.DemoID, "test")); n != 1 {
		t.Fatalf("%d members at the simulator", n)
	}
	// A customer id the gateway may refuse gets a random member stem.
	o2 := e.order(1000, forCustomer("cust_with-long-id-0001"))
	e.mustPay(o2, e.tok(visaOK))
	m2, ok := e.member("cust_with-long-id-0001")
	if !ok || strings.ContainsAny(m2.KaiinID, "_-") || len(m2.KaiinID) > 20 {
		t.Fatalf("member %+v", m2)
	}
}

// TestSavedCardRules: what cannot be done with saved cards.
func TestSavedCardRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.order(1000, forCustomer("carol"))
	// No saved card yet.
	_, err := e.pay(o, cardpay.PayInput{UseSavedCard: true})
	wantField(t, err, "use_saved_card", "card_not_found")
	_, err = e.payer.GetCard(e.Ctx, shopID, "carol")
	wantErr(t, err, kessai.KindNotFound, "card_not_found")
	err = e.payer.DeleteCard(e.Ctx, shopID, "carol")
	wantErr(t, err, kessai.KindNotFound, "card_not_found")
	// A guest cannot save a card.
	_, err = e.pay(e.order(1000), cardpay.PayInput{Token: e.token(visaOK), SaveCard: true})
	wantField(t, err, "save_card", "save_card_unavailable")
	// Nor anyone while card members are off.
	e.card("members", false)
	_, err = e.pay(o, cardpay.PayInput{Token: e.token(visaOK), SaveCard: true})
	wantField(t, err, "save_card", "save_card_unavailable")
	_, err = e.payer.SaveCard(e.Ctx, shopID, "carol", cardpay.SaveCardInput{Token: e.token(visaOK)})
	wantErr(t, err, kessai.KindConflict, "members_disabled")
	if n := e.Calls.Count(""); n != 0 {
		t.Fatalf("%d gateway calls", n)
	}
}

// TestSavedCardGoneAtGateway is CARD-08's failure: the gateway no longer
// finds the member → 「カード会員情報が見つかりません。」 and the order fails.
func TestSavedCardGoneAtGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.payer.SaveCard(e.Ctx, shopID, "dave", cardpay.SaveCardInput{Token: e.token(visaOK)}); err != nil {
		t.Fatal(err)
	}
	e.Advance(61 * 24 * time.Hour) // test members expire after 60 days (K71)
	o := e.order(1000, forCustomer("dave"))
	_, err := e.pay(o, cardpay.PayInput{UseSavedCard: true})
	f := wantFailure(t, err, kessai.KindDeclined, "card_not_found")
	if f.Err.Ja != "カード会員情報が見つかりません。" || !slices.Contains(f.Codes, "K71") {
		t.Fatalf("failure %+v", f)
	}
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderFailed)
	if n := e.Calls.Count(escott.OpGathering); n != 0 {
		t.Fatal("paid with a vanished member")
	}
}

// TestDeleteCard is MEMBER-06/07 and design A-01: refused while the card
// has an authorised payment (with a message saying why), allowed once it
// is cancelled; 4MemRefM → 4MemInval → 4MemDel, then the ids go.
func TestDeleteCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("operation", "1Auth"))
	o := e.order(4000, forCustomer("erin"))
	in := e.tok(visaOK)
	in.SaveCard = true
	res := e.mustPay(o, in)
	m, _ := e.member("erin")

	c, err := e.payer.GetCard(e.Ctx, shopID, "erin")
	if err != nil {
		t.Fatal(err)
	}
	if c.Deletable || c.Refusal == nil || c.Refusal.Code != "card_in_use_authorized" {
		t.Fatalf("card %+v refusal %+v", c, c.Refusal)
	}
	n := e.Calls.Count("")
	err = e.payer.DeleteCard(e.Ctx, shopID, "erin")
	ke := wantErr(t, err, kessai.KindConflict, "card_in_use_authorized")
	if !strings.Contains(ke.Ja, "与信") || !strings.Contains(ke.En, "authorised") || !strings.Contains(ke.En, "cancel") {
		t.Fatalf("refusal does not say why: %q / %q", ke.Ja, ke.En)
	}
	if got := e.Calls.Since(n); len(got) != 0 {
		t.Fatalf("gateway calls for a refused deletion: %v", got)
	}
	if _, ok := e.simMember(m.KaiinID); !ok {
		t.Fatal("member gone at the gateway")
	}

	// Cancel the authorisation (ADMIN-06, with the member: K80 otherwise).
	if _, err := e.payer.Operate(e.Ctx, shopID, res.Payment.ID, escott.OpDelete, 0); err != nil {
		t.Fatal(err)
	}
	if c, err := e.payer.GetCard(e.Ctx, shopID, "erin"); err != nil || !c.Deletable {
		t.Fatalf("after cancel: %+v %v", c, err)
	}
	n = e.Calls.Count("")
	if err := e.payer.DeleteCard(e.Ctx, shopID, "erin"); err != nil {
		t.Fatal(err)
	}
	if got := e.Calls.Since(n); !slices.Equal(got, []escott.OperateID{escott.OpMemRefM, escott.OpMemInval, escott.OpMemDel}) {
		t.Fatalf("gateway calls %v", got)
	}
	if _, ok := e.member("erin"); ok {
		t.Fatal("member still stored")
	}
	if sm, ok := e.simMember(m.KaiinID); ok {
		t.Fatalf("member still at the gateway: %+v", sm)
	}
	if !slices.Contains(e.Events(), kessai.EventMemberDeleted) {
		t.Fatal("no member.deleted")
	}
	_, err = e.payer.GetCard(e.Ctx, shopID, "erin")
	wantErr(t, err, kessai.KindNotFound, "card_not_found")
}

// TestDeleteCardK71 is MEMBER-09: in the test environment a member the
// gateway no longer knows (test members expire) is cleared locally.
func TestDeleteCardK71(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.payer.SaveCard(e.Ctx, shopID, "fay", cardpay.SaveCardInput{Token: e.token(visaOK)}); err != nil {
		t.Fatal(err)
	}
	m, _ := e.member("fay")
	e.Advance(61 * 24 * time.Hour)
	if sm, _ := e.simMember(m.KaiinID); !sm.Expired {
		t.Fatalf("simulator member not expired: %+v", sm)
	}
	_, err := e.payer.GetCard(e.Ctx, shopID, "fay")
	wantErr(t, err, kessai.KindNotFound, "card_not_found")
	if err := e.payer.DeleteCard(e.Ctx, shopID, "fay"); err != nil {
		t.Fatalf("DeleteCard after K71: %v", err)
	}
	if _, ok := e.member("fay"); ok {
		t.Fatal("member not cleared after K71")
	}
	// The customer can register again.
	if _, err := e.payer.SaveCard(e.Ctx, shopID, "fay", cardpay.SaveCardInput{Token: e.token(masterOK)}); err != nil {
		t.Fatal(err)
	}
}

// TestSaveCard is MEMBER-04: register and update outside a checkout,
// server to server.
func TestSaveCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r, err := e.payer.SaveCard(e.Ctx, shopID, "gus", cardpay.SaveCardInput{Token: e.token(visaOK)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != cardpay.StatusSucceeded || r.Card == nil || r.Card.CardNumber != "4012********0008" || r.Card.Last4 != "0008" || !r.Card.Deletable {
		t.Fatalf("result %+v card %+v", r, r.Card)
	}
	m, _ := e.member("gus")
	n := e.Calls.Count("")
	r, err = e.payer.SaveCard(e.Ctx, shopID, "gus", cardpay.SaveCardInput{Token: e.token(amexOK)})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Calls.Since(n); !slices.Equal(got[:3], []escott.OperateID{escott.OpTokenSearch, escott.OpMemRefM, escott.OpMemChg}) {
		t.Fatalf("gateway calls %v", got)
	}
	if r.Card.CardNumber != "3700*******0002" || r.Card.Brand != "amex" {
		t.Fatalf("card %+v", r.Card)
	}
	if m2, _ := e.member("gus"); m2.KaiinID != m.KaiinID {
		t.Fatal("member id changed on update")
	}
	// A declined token registers nothing.
	_, err = e.payer.SaveCard(e.Ctx, shopID, "hal", cardpay.SaveCardInput{Token: "nosuchtoken"})
	wantErr(t, err, kessai.KindDeclined, "token_invalid")
	if _, ok := e.member("hal"); ok {
		t.Fatal("member stored for a bad token")
	}
}

// TestSaveCardThreeDS is MEMBER-05: with 3-D Secure the registration goes
// through the gateway's 3DS page (4MemAdd over E5) and the member is
// stored only after the return was confirmed; a failed authentication
// keeps the old card.
func TestSaveCardThreeDS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("three_ds", true))
	in := cardpay.SaveCardInput{Token: e.token(threeDSOK), CardholderName: "TARO YAMADA", Consent: true, ReturnURL: paytest.ShopReturnURL}
	// Consent, holder name and return URL are required with 3DS.
	_, err := e.payer.SaveCard(e.Ctx, shopID, "ivy", cardpay.SaveCardInput{Token: in.Token})
	wantField(t, err, "consent", "consent_required")
	wantField(t, err, "cardholder_name", "required")
	wantField(t, err, "return_url", "required")

	r, err := e.payer.SaveCard(e.Ctx, shopID, "ivy", in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != cardpay.StatusRequiresAction {
		t.Fatalf("result %+v", r)
	}
	if _, ok := e.member("ivy"); ok {
		t.Fatal("member stored before the 3DS return")
	}
	q := outcome(t, e.back(e.open(r.NextAction)))
	if q.Get("status") != "succeeded" || q.Get("customer_id") != "ivy" {
		t.Fatalf("outcome %v", q)
	}
	m, ok := e.member("ivy")
	if !ok {
		t.Fatal("member not stored")
	}
	if sm, ok := e.simMember(m.KaiinID); !ok || sm.CardNumber != "4000********3006" {
		t.Fatalf("simulator member %+v", sm)
	}

	// A change whose authentication fails keeps the old card.
	in.Token = e.token(visaOK) // challenge page
	r, err = e.payer.SaveCard(e.Ctx, shopID, "ivy", in)
	if err != nil {
		t.Fatal(err)
	}
	q = outcome(t, e.back(e.challenge(e.open(r.NextAction), "1")))
	if q.Get("status") != "failed" || q.Get("error") != "three_d_secure_failed" {
		t.Fatalf("outcome %v", q)
	}
	if m2, _ := e.member("ivy"); m2.KaiinID != m.KaiinID {
		t.Fatalf("member changed: %+v", m2)
	}
	if sm, _ := e.simMember(m.KaiinID); sm.CardNumber != "4000********3006" || !sm.Valid {
		t.Fatalf("simulator member after a failed change %+v", sm)
	}
}

// TestDeleteCardInterrupted: a deletion that stops after 4MemInval (the
// member is invalidated at the gateway, not deleted) keeps the stored ids,
// shows the card invalid, and can be repeated.
func TestDeleteCardInterrupted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.payer.SaveCard(e.Ctx, shopID, "ida", cardpay.SaveCardInput{Token: e.token(visaOK)}); err != nil {
		t.Fatal(err)
	}
	m, _ := e.member("ida")
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpMemDel, ResponseCd: "E90", Times: 1})
	err := e.payer.DeleteCard(e.Ctx, shopID, "ida")
	wantErr(t, err, kessai.KindDeclined, "card_delete_failed")
	if _, ok := e.member("ida"); !ok {
		t.Fatal("ids removed although the gateway did not delete")
	}
	if sm, ok := e.simMember(m.KaiinID); !ok || sm.Valid {
		t.Fatalf("simulator member %+v", sm)
	}
	if c, err := e.payer.GetCard(e.Ctx, shopID, "ida"); err != nil || c.Valid {
		t.Fatalf("card %+v %v", c, err)
	}
	if err := e.payer.DeleteCard(e.Ctx, shopID, "ida"); err != nil {
		t.Fatalf("second deletion: %v", err)
	}
	if _, ok := e.simMember(m.KaiinID); ok {
		t.Fatal("member still at the gateway")
	}
	if _, ok := e.member("ida"); ok {
		t.Fatal("member still stored")
	}
}

// TestGetCardGatewayDown: a lookup without an answer is "unavailable",
// not "no card".
func TestGetCardGatewayDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.payer.SaveCard(e.Ctx, shopID, "jo", cardpay.SaveCardInput{Token: e.token(visaOK)}); err != nil {
		t.Fatal(err)
	}
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultReset, Op: escott.OpMemRefM, Times: 2})
	_, err := e.payer.GetCard(e.Ctx, shopID, "jo")
	wantErr(t, err, kessai.KindUnavailable, "gateway_unavailable")
	err = e.payer.DeleteCard(e.Ctx, shopID, "jo")
	wantErr(t, err, kessai.KindUnavailable, "gateway_unavailable")
	if _, ok := e.member("jo"); !ok {
		t.Fatal("member removed while the gateway was down")
	}
}

// TestPaySavedCardGatewayDown: when the saved-card lookup before a
// payment gets no answer, the checkout answers 503 gateway_unavailable —
// not "card not found" — and leaves the order payable (CARD-08).
func TestPaySavedCardGatewayDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.payer.SaveCard(e.Ctx, shopID, "ken", cardpay.SaveCardInput{Token: e.token(visaOK)}); err != nil {
		t.Fatal(err)
	}
	o := e.order(1800, forCustomer("ken"))
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultReset, Op: escott.OpMemRefM, Times: 1})
	_, err := e.pay(o, cardpay.PayInput{UseSavedCard: true})
	wantErr(t, err, kessai.KindUnavailable, "gateway_unavailable")
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderPending)
	if ps := e.Payments(o.ID); len(ps) != 0 {
		t.Fatalf("payments %v", states(ps))
	}
	// Once the gateway answers again, the same checkout goes through.
	if r := e.mustPay(e.GetOrder(o.ID), cardpay.PayInput{UseSavedCard: true}); r.Status != cardpay.StatusSucceeded {
		t.Fatalf("retry %+v", r)
	}
}
