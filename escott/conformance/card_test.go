package conformance

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// TestAuthorize covers 1Auth and 1Gathering, each with a token and with a
// card member: the answer carries the transaction handle and the
// simulator holds the transaction in the matching state.
func TestAuthorize(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mem := f.newMember("42", masterOK)
	for _, capture := range []bool{false, true} {
		for _, withMember := range []bool{false, true} {
			req := escott.AuthRequest{Ref: f.ref("o-auth"), Capture: capture, Amount: 3300}
			if withMember {
				req.Member = mem
				req.MerchantFree3 = "42"
			} else {
				req.Token = f.token(sim.DemoCard)
			}
			name := fmt.Sprintf("%s/member=%v", req.Op(), withMember)
			t.Run(name, func(t *testing.T) {
				res, err := f.c.Authorize(f.ctx, req)
				wantOK(t, err)
				if res.OperateID() != req.Op() || res.MerchantFree1() != req.MerchantFree1 || res.Get("MerchantFree2") != "o-auth" {
					t.Fatalf("echoes: %v", res.Fields)
				}
				if res.Process.ProcessID == "" || res.Process.ProcessPass == "" || res.TransactionID == "" || res.ApproveNo == "" || res.CompanyCd == "" {
					t.Fatalf("missing handle fields: %+v", res)
				}
				if res.PayType != escott.PayLump {
					t.Fatalf("PayType %q", res.PayType)
				}
				tx := f.mustTxn(res.Process.ProcessID)
				wantState := "AUTH"
				if capture {
					wantState = "CAPTURED"
				}
				if string(tx.Status) != wantState || tx.Amount != 3300 || tx.OriginalOp != req.Op() {
					t.Fatalf("simulator: %+v", tx)
				}
				if withMember != (tx.KaiinID == mem.KaiinID) {
					t.Fatalf("simulator member %q", tx.KaiinID)
				}
				if capture && tx.SalesDate != escott.TransactionDate(f.sim.Now()) {
					t.Fatalf("1Gathering SalesDate %q", tx.SalesDate)
				}
			})
		}
	}
}

// TestDeclineCards pays with each declining test card: the client gets an
// *escott.Error carrying the card's code, classed as catalogued, and the
// simulator records no transaction (the token is consumed all the same).
func TestDeclineCards(t *testing.T) {
	t.Parallel()
	want := map[string]escott.Class{
		"G12": escott.ClassIssuerDecline, "G55": escott.ClassIssuerDecline, "G56": escott.ClassIssuerDecline,
		"G60": escott.ClassIssuerDecline, "G65": escott.ClassCardInput, "G83": escott.ClassCardInput,
		"G44": escott.ClassCardInput,
	}
	seen := map[string]bool{}
	for _, tc := range sim.TestCards {
		if tc.Decline == "" {
			continue
		}
		seen[tc.Decline] = true
		t.Run(tc.Decline, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			for _, capture := range []bool{false, true} {
				tok := f.token(tc.Number)
				res, err := f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o-decl"), Capture: capture, Amount: defaultAmt, Token: tok})
				e := wantCode(t, err, tc.Decline)
				if res == nil || res.Process.ProcessID != "" {
					t.Fatalf("a decline must come with the answer and no handle: %+v", res)
				}
				if e.Op != (escott.AuthRequest{Capture: capture}).Op() {
					t.Fatalf("error op %s", e.Op)
				}
				if cls, ok := want[tc.Decline]; !ok || escott.ClassOf(e.Codes) != cls || e.Class() != cls {
					t.Fatalf("class of %s: %v, want %v", tc.Decline, e.Class(), want[tc.Decline])
				}
				if e.Class().Retryable() || escott.IsUncertain(err) {
					t.Fatal("a decline is neither retryable nor uncertain")
				}
				if _, err := f.c.TokenSearch(f.ctx, f.ref("o-decl"), tok); !hasCode(err, "KI2") {
					t.Fatalf("token after a decline: %v, want KI2", err)
				}
			}
			if n := len(f.sim.Transactions(demoID, "test")); n != 0 {
				t.Fatalf("the simulator recorded %d transactions for declines", n)
			}
		})
	}
	for code := range want {
		if !seen[code] {
			t.Errorf("sim.TestCards has no card declining with %s", code)
		}
	}
}

// TestSecurityCodeMismatch: the demo card only accepts 8888; another code
// is declined with G44 at authorisation.
func TestSecurityCodeMismatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok, err := f.sim.IssueToken(demoID, "test", sim.DemoCard, cardExp, "1234", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o"), Amount: defaultAmt, Token: tok})
	if e := wantCode(t, err, "G44"); e.Class() != escott.ClassCardInput {
		t.Fatalf("class %v", e.Class())
	}
}

// TestPayTypeRules authorises every PayType code on a card of each brand
// group: the simulator accepts exactly the codes of spec §4.5 (the most
// permissive shop setting, bonus included) and refuses the others with
// C12 (installment count) or G78 (bonus/revolving), and the client's own
// rule table agrees.
func TestPayTypeRules(t *testing.T) {
	t.Parallel()
	all := []escott.PayType{escott.PayLump, escott.PayInstall2, escott.PayInstall3, escott.PayInstall5, escott.PayInstall6,
		escott.PayInstall10, escott.PayInstall12, escott.PayInstall15, escott.PayInstall18, escott.PayInstall20,
		escott.PayInstall24, escott.PayBonus, escott.PayRevolving}
	brands := []struct {
		name, number string
		allowed      string // the codes of spec §4.5 plus 80
	}{
		{"VISA", visaOK, "01 02 03 05 06 10 12 15 18 20 24 80 88"},
		{"Mastercard", masterOK, "01 02 03 05 06 10 12 15 18 20 24 80 88"},
		{"JCB", jcbOK, "01 02 03 05 06 10 12 15 18 20 24 80 88"},
		{"Diners", dinersOK, "01 80 88"},
		{"AMEX", amexOK, "01 03 05 06 10 12 15 18 20 24 80"},
	}
	for _, b := range brands {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			accepted := ""
			for _, pt := range all {
				res, err := f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o-pt"), Amount: 30000, PayType: pt, Token: f.token(b.number)})
				clientOK := escott.CheckPayType(b.number, escott.InstallmentsAndBonus, pt) == nil
				if err == nil {
					accepted += " " + string(pt)
					if res.PayType != pt || f.mustTxn(res.Process.ProcessID).PayType != string(pt) {
						t.Errorf("PayType %s answered %s", pt, res.PayType)
					}
					if !clientOK {
						t.Errorf("%s %s: the simulator accepts what escott.CheckPayType refuses", b.name, pt)
					}
					continue
				}
				want := "C12"
				if pt == escott.PayBonus || pt == escott.PayRevolving {
					want = "G78"
				}
				if !hasCode(err, want) {
					t.Errorf("%s %s: %v, want %s", b.name, pt, err, want)
				}
				if clientOK {
					t.Errorf("%s %s: escott.CheckPayType allows what the simulator refuses", b.name, pt)
				}
			}
			if accepted[1:] != b.allowed {
				t.Fatalf("accepted %q, want %q", accepted[1:], b.allowed)
			}
		})
	}
	t.Run("unknown PayType", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, err := f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o"), Amount: defaultAmt, PayType: "04", Token: f.token(visaOK)})
		if e := wantCode(t, err, "K22"); e.Class() != escott.ClassRequest {
			t.Fatalf("class %v", e.Class())
		}
	})
}

// TestAuthorizeClientSideRefusals: requests the client refuses without a
// gateway call (zero or negative amount, no or both card sources) — the
// simulator sees nothing.
func TestAuthorizeClientSideRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.token(visaOK)
	mem := escott.Member{KaiinID: "k1i0000001", KaiinPass: "000000000001"}
	for name, req := range map[string]escott.AuthRequest{
		"zero amount":      {Amount: 0, Token: tok},
		"negative amount":  {Amount: -1, Token: tok},
		"no card":          {Amount: defaultAmt},
		"token and member": {Amount: defaultAmt, Token: tok, Member: mem},
	} {
		res, err := f.c.Authorize(f.ctx, req)
		if err == nil || res != nil {
			t.Fatalf("%s: want a client-side error, got %v / %v", name, res, err)
		}
		if _, isGateway := escott.AsError(err); isGateway {
			t.Fatalf("%s: %v is a gateway error; the call must not be made", name, err)
		}
	}
	if calls, _ := f.c.Stats(); calls != 0 {
		t.Fatalf("%d calls reached the transport", calls)
	}
	if _, err := f.c.TokenSearch(f.ctx, f.ref("o"), tok); err != nil {
		t.Fatalf("the token must still be unused: %v", err)
	}
	if n := len(f.sim.Transactions(demoID, "test")); n != 0 {
		t.Fatalf("%d transactions", n)
	}
}

// TestCheck covers 1Check: a card check answers OK with CompanyCd and no
// transaction, consumes the token, and declines like an authorisation.
func TestCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.token(jcbOK)
	res, err := f.c.Check(f.ctx, f.ref("o-check"), tok, escott.Member{})
	wantOK(t, err)
	if res.OperateID() != escott.OpCheck || res.Get("CompanyCd") == "" || res.ProcessID() != "" {
		t.Fatalf("answer %v", res.Fields)
	}
	if n := len(f.sim.Transactions(demoID, "test")); n != 0 {
		t.Fatalf("1Check created %d transactions", n)
	}
	_, err = f.c.Check(f.ctx, f.ref("o-check"), tok, escott.Member{})
	wantCode(t, err, "KI2")

	_, err = f.c.Check(f.ctx, f.ref("o-check"), f.token("4000000000000127"), escott.Member{})
	wantCode(t, err, "G12")

	mem := f.newMember("7", visaOK)
	_, err = f.c.Check(f.ctx, f.ref("o-check"), "", mem)
	wantOK(t, err)

	if _, err := f.c.Check(f.ctx, f.ref("o-check"), "", escott.Member{}); err == nil {
		t.Fatal("a check without card must be refused client-side")
	}
}

// hasCode reports whether err is a gateway answer carrying code.
func hasCode(err error, code string) bool {
	e, ok := escott.AsError(err)
	return ok && e.HasCode(code)
}

// amountOf parses an Amount field.
func amountOf(t testing.TB, r *escott.Response) int64 {
	t.Helper()
	v, err := strconv.ParseInt(r.Get("Amount"), 10, 64)
	if err != nil {
		t.Fatalf("Amount %q", r.Get("Amount"))
	}
	return v
}
