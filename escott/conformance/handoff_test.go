package conformance

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// redirectURL is the merchant's return URL in every hand-off; the
// simulator only posts the browser back there (the test reads the form).
const redirectURL = "https://shop.example/?wc-api=return"

func demoCipher(t testing.TB) *escott.Cipher {
	t.Helper()
	ci, err := escott.NewCipher(sim.DemoMerchant.AESKey, sim.DemoMerchant.AESIV)
	if err != nil {
		t.Fatal(err)
	}
	return ci
}

// submit posts a hand-off as the shopper's browser would (E5: POST form;
// E6: GET redirect) and returns the page.
func (f *fixture) submit(h escott.HandOff) string {
	f.t.Helper()
	var status int
	var page string
	switch h.Method {
	case http.MethodPost:
		status, page = f.browse(http.MethodPost, h.Action, h.Fields.Values())
	case http.MethodGet:
		status, page = f.browse(http.MethodGet, h.URL(), nil)
	default:
		f.t.Fatalf("hand-off method %q", h.Method)
	}
	if status != http.StatusOK {
		f.t.Fatalf("%s %s: HTTP %d\n%s", h.Method, h.Action, status, page)
	}
	return page
}

// returned reads the auto-submitted return of a page: it must go to
// redirectURL, and it is decrypted with the merchant's cipher.
func (f *fixture) returned(ci *escott.Cipher, page string) *escott.Return {
	f.t.Helper()
	action, ev := autoSubmitted(f.t, page)
	if action != redirectURL {
		f.t.Fatalf("return posted to %q, want %q", action, redirectURL)
	}
	ret, err := escott.ParseReturn(ci, ev)
	if err != nil {
		f.t.Fatalf("ParseReturn: %v", err)
	}
	return ret
}

// threeDS runs a 3Secure hand-off for a token and returns the result.
func (f *fixture) threeDS(ci *escott.Cipher, ref escott.Ref, amount int64, tok string, m escott.Member) *escott.Return {
	f.t.Helper()
	procNo, err := escott.NewProcNo(f.c.Rand())
	if err != nil {
		f.t.Fatal(err)
	}
	h, err := f.c.ThreeDSHandOff(ci, escott.ThreeDSRequest{
		Op: escott.OpSecure, Ref: ref, Amount: amount, Token: tok, Member: m, ProcNo: procNo,
		RedirectURL: redirectURL, BillingFullName: "TARO YAMADA", BillingEmail: "taro@example.jp",
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if h.Method != http.MethodPost || h.Action != f.srv.URL+escott.PathThreeDS || h.Fields.Get("MerchantId") != demoID {
		f.t.Fatalf("hand-off %+v", h)
	}
	return f.returned(ci, f.submit(h))
}

// TestThreeDSHandOff covers 3Secure through E5 for every fixed-outcome
// test card: the return decrypts, carries the 3DS fields, and
// StopsPayment is true exactly for 1, 8 and 9; the authorisation with the
// returned fields then succeeds, and the result is single-use.
func TestThreeDSHandOff(t *testing.T) {
	t.Parallel()
	for _, tc := range sim.TestCards {
		if tc.ThreeDS == "" {
			continue
		}
		t.Run(tc.Number+"/"+tc.ThreeDS+tc.ThreeDSResponseCd, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ci := demoCipher(t)
			tok := f.token(tc.Number)
			ref := f.ref("order-3ds")
			ret := f.threeDS(ci, ref, 3000, tok, escott.Member{})
			if !ret.IsThreeDS() || ret.OperateID() != escott.OpSecure || ret.MerchantFree1() != ref.MerchantFree1 || ret.Get("MerchantFree2") != "order-3ds" {
				t.Fatalf("return %v", ret.Fields)
			}
			if ret.ThreeDS.SecureResultCode != tc.ThreeDS {
				t.Fatalf("SecureResultCode %q, want %q", ret.ThreeDS.SecureResultCode, tc.ThreeDS)
			}
			wantResp := tc.ThreeDSResponseCd
			if wantResp == "" {
				wantResp = "OK"
			}
			if strings.Join(ret.Codes, "|") != wantResp {
				t.Fatalf("ResponseCd %v, want %s", ret.Codes, wantResp)
			}
			stops := slices.Contains([]string{"1", "8", "9"}, tc.ThreeDS)
			if ret.ThreeDS.StopsPayment() != stops {
				t.Fatalf("StopsPayment %v for %s", ret.ThreeDS.StopsPayment(), tc.ThreeDS)
			}
			if ret.ThreeDS.DSTransactionID == "" || ret.ThreeDS.ThreeDSServerTransactionID == "" || ret.ThreeDS.ECI3D == "" || ret.ThreeDS.MessageVersionNo3D == "" {
				t.Fatalf("3DS fields %+v", ret.ThreeDS)
			}
			// 3Secure does not consume the token.
			if _, err := f.c.TokenSearch(f.ctx, escott.Ref{}, tok); err != nil {
				t.Fatalf("token after 3Secure: %v", err)
			}
			auth := escott.AuthRequest{Ref: f.ref("order-3ds"), Capture: true, Amount: 3000, Token: tok, ThreeDS: ret.ThreeDS}
			if stops {
				// A merchant that ignores the stop rule (design A-18) is
				// refused: a failed authentication authorises nothing.
				_, err := f.c.Authorize(f.ctx, auth)
				wantCode(t, err, "K33")
				return
			}
			res, err := f.c.Authorize(f.ctx, auth)
			wantOK(t, err)
			if tx := f.mustTxn(res.Process.ProcessID); !tx.ThreeDS || tx.Status != "CAPTURED" {
				t.Fatalf("simulator %+v", tx)
			}
			// The result authorises one payment only.
			auth.Token = f.token(tc.Number)
			_, err = f.c.Authorize(f.ctx, auth)
			if e := wantCode(t, err, "K30"); e.Class() != escott.ClassThreeDS {
				t.Fatalf("class %v", e.Class())
			}
		})
	}
}

// TestThreeDSFieldChecks: the authorisation must carry the fields exactly
// as returned, for the authenticated card and amount.
func TestThreeDSFieldChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ci := demoCipher(t)
	ret := f.threeDS(ci, f.ref("o"), 3000, f.token(threeDSOK), escott.Member{})
	cases := []struct {
		name   string
		amount int64
		number string
		mod    func(*escott.ThreeDSFields)
		code   string
	}{
		{"CAVV altered", 3000, threeDSOK, func(x *escott.ThreeDSFields) { x.CAVV3D = "AAAA" + x.CAVV3D[4:] }, "K35"},
		{"ECI altered", 3000, threeDSOK, func(x *escott.ThreeDSFields) { x.ECI3D = "07" }, "K36"},
		{"other amount", 3001, threeDSOK, func(*escott.ThreeDSFields) {}, "K35"},
		{"other card", 3000, visaOK, func(*escott.ThreeDSFields) {}, "K37"},
		{"never issued", 3000, threeDSOK, func(x *escott.ThreeDSFields) {
			x.DSTransactionID = "00000000-0000-4000-8000-000000000000"
			x.ThreeDSServerTransactionID = "00000000-0000-4000-8000-000000000001"
		}, "K30"},
	}
	for _, tc := range cases {
		fields := ret.ThreeDS
		tc.mod(&fields)
		_, err := f.c.Authorize(f.ctx, escott.AuthRequest{Amount: tc.amount, Token: f.token(tc.number), ThreeDS: fields})
		if !hasCode(err, tc.code) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	// Untouched, it still works (the refusals did not use it up).
	if _, err := f.c.Authorize(f.ctx, escott.AuthRequest{Amount: 3000, Token: f.token(threeDSOK), ThreeDS: ret.ThreeDS}); err != nil {
		t.Fatalf("valid 3DS result after refusals: %v", err)
	}
}

// TestThreeDSChallenge: a card without a fixed outcome gets the challenge
// page; the tester's choice comes back.
func TestThreeDSChallenge(t *testing.T) {
	t.Parallel()
	for _, choice := range []struct{ outcome, secure, resp string }{{"2", "2", "OK"}, {"1", "1", "OK"}, {"U06", "9", "U06"}} {
		t.Run(choice.outcome, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ci := demoCipher(t)
			tok := f.token(visaOK)
			procNo, _ := escott.NewProcNo(f.c.Rand())
			h, err := f.c.ThreeDSHandOff(ci, escott.ThreeDSRequest{Op: escott.OpSecure, Ref: f.ref("o"), Amount: 800, Token: tok,
				ProcNo: procNo, RedirectURL: redirectURL, BillingFullName: "TARO YAMADA", BillingEmail: "t@example.jp"})
			if err != nil {
				t.Fatal(err)
			}
			page := f.submit(h)
			forms := parseForms(page)
			var form *htmlForm
			for i := range forms {
				for _, b := range forms[i].Buttons {
					if b.Get("outcome") == choice.outcome {
						form = &forms[i]
					}
				}
			}
			if form == nil || !strings.Contains(page, "4012********0008") {
				t.Fatalf("no challenge with outcome %s:\n%s", choice.outcome, page)
			}
			status, answer := f.browse(http.MethodPost, f.resolve(form.Action), url.Values{"outcome": {choice.outcome}})
			if status != http.StatusOK {
				t.Fatalf("HTTP %d", status)
			}
			ret := f.returned(ci, answer)
			if ret.ThreeDS.SecureResultCode != choice.secure || strings.Join(ret.Codes, "|") != choice.resp {
				t.Fatalf("return %v", ret.Fields)
			}
			if ret.ThreeDS.StopsPayment() != (choice.secure != "2") {
				t.Fatalf("StopsPayment %v", ret.ThreeDS.StopsPayment())
			}
			// Answering twice re-sends the same result.
			_, again := f.browse(http.MethodPost, f.resolve(form.Action), url.Values{"outcome": {"0"}})
			if _, ev := autoSubmitted(t, again); ev != mustEncryptValue(t, answer) {
				t.Fatal("a second answer changed the result")
			}
		})
	}
}

func mustEncryptValue(t testing.TB, page string) string {
	_, ev := autoSubmitted(t, page)
	return ev
}

// TestThreeDSMember: 3Secure for a saved card (member instead of token),
// then the member payment with the 3DS fields.
func TestThreeDSMember(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ci := demoCipher(t)
	m := f.newMember("31", threeDSOK)
	ret := f.threeDS(ci, f.ref("o"), 1500, "", m)
	if ret.ThreeDS.SecureResultCode != "0" || !ret.OK() {
		t.Fatalf("return %v", ret.Fields)
	}
	res, err := f.c.Authorize(f.ctx, escott.AuthRequest{Amount: 1500, Member: m, ThreeDS: ret.ThreeDS})
	wantOK(t, err)
	if tx := f.mustTxn(res.Process.ProcessID); !tx.ThreeDS || tx.KaiinID != m.KaiinID {
		t.Fatalf("simulator %+v", tx)
	}
}

// TestThreeDSMemberRegistration: 4MemAdd through E5 registers the member
// after 3-D Secure and returns the ids.
func TestThreeDSMemberRegistration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ci := demoCipher(t)
	m := escott.Member{KaiinID: "k5i1234567", KaiinPass: "000000123456"}
	procNo, _ := escott.NewProcNo(f.c.Rand())
	h, err := f.c.ThreeDSHandOff(ci, escott.ThreeDSRequest{Op: escott.OpMemAdd, Ref: escott.Ref{MerchantFree1: "000000000051", MerchantFree3: "5"},
		Token: f.token(threeDSOK), Member: m, ProcNo: procNo, RedirectURL: redirectURL, BillingEmail: "t@example.jp"})
	if err != nil {
		t.Fatal(err)
	}
	ret := f.returned(ci, f.submit(h))
	if !ret.OK() || ret.OperateID() != escott.OpMemAdd || ret.Member() != m || ret.Get("MerchantFree3") != "5" || ret.ThreeDS.SecureResultCode != "0" {
		t.Fatalf("return %v", ret.Fields)
	}
	if sm, ok := f.member(m.KaiinID); !ok || !sm.Valid {
		t.Fatalf("member not registered: %+v", sm)
	}
}

// linkCardForm finds the card form of the E6 page and fills it.
func (f *fixture) payOnLinkPage(page, number, secCd string) string {
	f.t.Helper()
	for _, form := range parseForms(page) {
		if !slices.Contains(form.Names, "cardno") {
			continue
		}
		v := form.Fields
		v.Set("cardno", number)
		v.Set("expmm", cardExp[2:])
		v.Set("expyy", cardExp[:2])
		v.Set("seccd", secCd)
		v.Set("holder", "TARO YAMADA")
		status, out := f.browse(http.MethodPost, f.resolve(form.Action), v)
		if status != http.StatusOK {
			f.t.Fatalf("card form: HTTP %d\n%s", status, out)
		}
		return out
	}
	f.t.Fatalf("no card form on the link page:\n%s", page)
	return ""
}

// pressOnLinkPage submits the form whose button has action=value.
func (f *fixture) pressOnLinkPage(page, value string) string {
	f.t.Helper()
	for _, form := range parseForms(page) {
		for _, b := range form.Buttons {
			if b.Get("action") == value {
				status, out := f.browse(http.MethodPost, f.resolve(form.Action), b)
				if status != http.StatusOK {
					f.t.Fatalf("%s: HTTP %d\n%s", value, status, out)
				}
				return out
			}
		}
	}
	f.t.Fatalf("no %q button on the link page:\n%s", value, page)
	return ""
}

// TestLinkHandOff covers the external link page (E6): a payment with the
// card typed on the simulator's page, a cancel, a declined card, and the
// member registration with its second hop (spec §9.3).
func TestLinkHandOff(t *testing.T) {
	t.Parallel()
	t.Run("payment", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ci := demoCipher(t)
		ref := f.ref("order-link")
		h, err := f.c.LinkHandOff(ci, escott.LinkRequest{Op: escott.OpGathering, Ref: ref, Amount: 4400, RedirectURL: redirectURL})
		if err != nil {
			t.Fatal(err)
		}
		if h.Method != http.MethodGet || h.Action != f.srv.URL+escott.PathLink {
			t.Fatalf("hand-off %+v", h)
		}
		page := f.submit(h)
		if !strings.Contains(page, "4,400") {
			t.Fatalf("amount not shown:\n%s", page)
		}
		ret := f.returned(ci, f.payOnLinkPage(page, sim.DemoCard, demoSecCd))
		if !ret.OK() || ret.OperateID() != escott.OpGathering || !ret.FromCheckout() || ret.Get("MerchantId") != demoID ||
			ret.MerchantFree1() != ref.MerchantFree1 || ret.IsThreeDS() || ret.ShopperCancelled() {
			t.Fatalf("return %v", ret.Fields)
		}
		pr := ret.Process()
		if pr.ProcessID == "" || pr.ProcessPass == "" || ret.TransactionID() == "" {
			t.Fatalf("no handle in %v", ret.Fields)
		}
		if tx := f.mustTxn(pr.ProcessID); tx.Status != "CAPTURED" || tx.Amount != 4400 || tx.PayType != "01" || tx.CardNumber != "4123********0300" {
			t.Fatalf("simulator %+v", tx)
		}
		// The handle works server to server.
		s, err := f.c.Search(f.ctx, escott.Ref{}, pr)
		wantOK(t, err)
		if s.Amount != 4400 || s.SalesDate == "" {
			t.Fatalf("1Search %+v", s)
		}
		if _, err := f.c.Delete(f.ctx, escott.FollowUp{Process: pr}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ci := demoCipher(t)
		h, err := f.c.LinkHandOff(ci, escott.LinkRequest{Op: escott.OpAuth, Ref: f.ref("order-c"), Amount: 900, RedirectURL: redirectURL})
		if err != nil {
			t.Fatal(err)
		}
		ret := f.returned(ci, f.pressOnLinkPage(f.submit(h), "cancel"))
		if !ret.ShopperCancelled() || ret.OK() || ret.Process().ProcessID != "" {
			t.Fatalf("cancel return %v", ret.Fields)
		}
		if escott.ClassOf(ret.Codes) != escott.ClassShopperCancel {
			t.Fatalf("class %v", escott.ClassOf(ret.Codes))
		}
		if n := len(f.sim.Transactions(demoID, "test")); n != 0 {
			t.Fatalf("%d transactions after cancel", n)
		}
	})
	t.Run("declined", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ci := demoCipher(t)
		h, _ := f.c.LinkHandOff(ci, escott.LinkRequest{Op: escott.OpAuth, Ref: f.ref("order-d"), Amount: 900, RedirectURL: redirectURL})
		ret := f.returned(ci, f.payOnLinkPage(f.submit(h), "4000000000000556", ""))
		if strings.Join(ret.Codes, "|") != "G55" || ret.ShopperCancelled() {
			t.Fatalf("declined return %v", ret.Fields)
		}
	})
	t.Run("member registration and second hop", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		ci := demoCipher(t)
		m := escott.Member{KaiinID: "k8i7654321", KaiinPass: "000000654321"}
		ref := escott.Ref{MerchantFree1: "000000000061", MerchantFree2: "order-m", MerchantFree3: "8"}
		h, err := f.c.LinkHandOff(ci, escott.LinkRequest{Op: escott.OpMemAdd, Ref: ref, Member: m, RedirectURL: redirectURL})
		if err != nil {
			t.Fatal(err)
		}
		ret := f.returned(ci, f.payOnLinkPage(f.submit(h), masterOK, ""))
		if !ret.OK() || ret.OperateID() != escott.OpMemAdd || ret.Member() != m {
			t.Fatalf("registration return %v", ret.Fields)
		}
		if sm, ok := f.member(m.KaiinID); !ok || sm.CardNumber != "5123********0001" {
			t.Fatalf("simulator member %+v", sm)
		}
		// Second hop: pay with the returned member, no page.
		h2, err := f.c.LinkHandOff(ci, escott.LinkRequest{Op: escott.OpAuth, Ref: ref, Amount: 2200, Member: ret.Member(),
			RedirectURL: redirectURL, ThreeDS: ret.ThreeDS, TransactionDate: ret.Get("TransactionDate")})
		if err != nil {
			t.Fatal(err)
		}
		pay := f.returned(ci, f.submit(h2))
		if !pay.OK() || pay.Process().ProcessID == "" {
			t.Fatalf("second hop return %v", pay.Fields)
		}
		if tx := f.mustTxn(pay.Process().ProcessID); tx.KaiinID != m.KaiinID || tx.Amount != 2200 || tx.Status != "AUTH" {
			t.Fatalf("simulator %+v", tx)
		}
		// The follow-up needs the member (it was a member payment).
		_, err = f.c.Capture(f.ctx, escott.FollowUp{Process: pay.Process()})
		wantCode(t, err, "K80")
		if _, err := f.c.Capture(f.ctx, escott.FollowUp{Process: pay.Process(), Member: m}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestExpiredMemberIDOnLinkPage: an expired test member no longer holds
// its id, on the link page exactly as on E2.
func TestExpiredMemberIDOnLinkPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ci := demoCipher(t)
	m := f.newMember("42", visaOK)
	f.sim.Advance(61 * 24 * time.Hour)
	h, err := f.c.LinkHandOff(ci, escott.LinkRequest{Op: escott.OpMemAdd, Ref: f.ref("o"), Member: m, RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	page := f.submit(h)
	if strings.Contains(page, "EncryptValue") {
		if r := f.returned(ci, page); !r.OK() {
			t.Fatalf("link page refused an expired member's id: %v (E2 accepts it)", r.Codes)
		}
	}
}
