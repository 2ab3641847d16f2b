package sim

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

// payLimit is the due date days after the simulator's today, 23:59.
func (h *harness) payLimit(days int) string {
	return escott.TransactionDate(h.s.Now().AddDate(0, 0, days)) + "2359"
}

// cvsAdd registers a valid collection and returns its answer.
func (h *harness) cvsAdd(kv ...string) url.Values {
	h.t.Helper()
	base := []string{"Amount", "3630", "PayLimit", h.payLimit(7), "NameKanji", "山田太郎", "NameKana", "ヤマダタロウ",
		"TelNo", "090-1234-5678", "ShouhinName", "テスト商品Ａ", "ReturnURL", "https://shop.example/"}
	return h.must(escott.OpCvsAdd, append(base, kv...)...)
}

func (h *harness) collection(pid string) CollectionView {
	h.t.Helper()
	for _, c := range h.s.Collections(h.mid, h.env) {
		if c.ProcessID == pid {
			return c
		}
	}
	h.t.Fatalf("no collection %s", pid)
	return CollectionView{}
}

// receiver records notifications POSTed to it.
type receiver struct {
	mu  sync.Mutex
	got []url.Values
	ts  *httptest.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		v, _ := url.ParseQuery(string(b))
		r.mu.Lock()
		r.got = append(r.got, v)
		r.mu.Unlock()
	}))
	t.Cleanup(r.ts.Close)
	return r
}

func (r *receiver) all() []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]url.Values(nil), r.got...)
}

func withNotify(u string) func(*Config) {
	return func(c *Config) {
		m := DemoMerchant
		m.NotifyURL = u
		c.Merchants = []Merchant{m, restrictedMerchant}
	}
}

func TestCollectionLifecycle(t *testing.T) {
	recv := newReceiver(t)
	h := newHarness(t, withNotify(recv.ts.URL+"/notify"))
	a := h.cvsAdd()
	pid, ppass, fa := a.Get("ProcessId"), a.Get("ProcessPass"), a.Get("FreeArea")
	if !reProcessID.MatchString(pid) || !reProcessID.MatchString(ppass) || !regexp.MustCompile(`^[0-9A-Za-z]{20}$`).MatchString(fa) {
		t.Fatalf("2Add answer %v", a)
	}
	if a.Has("PayLimit") || a.Has("TenantId") {
		t.Fatalf("2Add answer has extras: %v", a)
	}
	ref := h.must(escott.OpCvsRef, "ProcessId", pid, "ProcessPass", ppass)
	if ref.Get("Amount") != "3630" || ref.Get("PayLimit") != h.payLimit(7) || ref.Has("NyukinDate") {
		t.Fatalf("2Ref unpaid %v", ref)
	}

	h.s.Advance(26 * time.Hour)
	if err := h.s.PayCollection(h.mid, "test", fa, "LSN"); err != nil {
		t.Fatal(err)
	}
	ref = h.must(escott.OpCvsRef, "ProcessId", pid, "ProcessPass", ppass)
	if ref.Get("NyukinDate") != "20260402120000" || !regexp.MustCompile(`^\d{12}$`).MatchString(ref.Get("RecvNum")) ||
		ref.Get("CvsCd") != "LSN" || ref.Get("Amount") != "3630" || ref.Has("PayLimit") {
		t.Fatalf("2Ref paid %v", ref)
	}
	cv := h.collection(pid)
	if cv.Status != "PAID" || cv.PaidTransactionID == "" || cv.History[len(cv.History)-2].OperateID != "paid" {
		t.Fatalf("view %+v", cv)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.s.FlushNotifications(ctx); err != nil {
		t.Fatal(err)
	}
	got := recv.all()
	if len(got) != 1 {
		t.Fatalf("%d notifications", len(got))
	}
	n := got[0]
	want := map[string]string{
		"MerchantId": h.mid, "TransactionId": cv.PaidTransactionID, "RecvNum": ref.Get("RecvNum"),
		"NyukinDate": "20260402120000", "MerchantFree1": "000482917365", "MerchantFree2": "1234", "CvsCd": "LSN",
	}
	if len(n) != len(want) {
		t.Fatalf("notification fields %v", n)
	}
	for k, v := range want {
		if n.Get(k) != v {
			t.Fatalf("notification %s = %q, want %q (%v)", k, n.Get(k), v, n)
		}
	}
	if !escott.IsNotification(n) {
		t.Fatal("the plugins would not recognise the notification")
	}
	// Paid is final.
	wantCode(t, h.do(escott.OpCvsChg, "ProcessId", pid, "ProcessPass", ppass, "PayLimit", h.payLimit(5), "Amount", "1"), "K14")
	wantCode(t, h.do(escott.OpCvsDel, "ProcessId", pid, "ProcessPass", ppass), "K14")
	if err := h.s.PayCollection(h.mid, "test", fa, "SEV"); !errors.Is(err, errCollectionPaid) {
		t.Fatalf("second payment: %v", err)
	}
}

func TestCollectionChangeOnce(t *testing.T) {
	h := newHarness(t)
	a := h.cvsAdd()
	pid, ppass, fa := a.Get("ProcessId"), a.Get("ProcessPass"), a.Get("FreeArea")
	c := h.must(escott.OpCvsChg, "ProcessId", pid, "ProcessPass", ppass, "PayLimit", h.payLimit(14), "Amount", "4000")
	if c.Get("FreeArea") == "" || c.Get("FreeArea") == fa || c.Get("ProcessId") != pid {
		t.Fatalf("2Chg answer %v", c)
	}
	wantCode(t, h.do(escott.OpCvsChg, "ProcessId", pid, "ProcessPass", ppass, "PayLimit", h.payLimit(20), "Amount", "4000"), "K14")
	ref := h.must(escott.OpCvsRef, "ProcessId", pid, "ProcessPass", ppass)
	if ref.Get("Amount") != "4000" || ref.Get("PayLimit") != h.payLimit(14) {
		t.Fatalf("2Ref after change %v", ref)
	}
	// The old payment code no longer pays; the new one does.
	if err := h.s.PayCollection(h.mid, "test", fa, "SEV"); !errors.Is(err, errCodeReplaced) {
		t.Fatalf("old code: %v", err)
	}
	if err := h.s.PayCollection(h.mid, "test", c.Get("FreeArea"), "SEV"); err != nil {
		t.Fatal(err)
	}
}

func TestCollectionDelete(t *testing.T) {
	h := newHarness(t)
	a := h.cvsAdd()
	pid, ppass, fa := a.Get("ProcessId"), a.Get("ProcessPass"), a.Get("FreeArea")
	h.must(escott.OpCvsDel, "ProcessId", pid, "ProcessPass", ppass)
	for _, op := range []escott.OperateID{escott.OpCvsRef, escott.OpCvsDel, escott.OpCvsChg} {
		wantCode(t, h.do(op, "ProcessId", pid, "ProcessPass", ppass, "PayLimit", h.payLimit(3), "Amount", "1"), "K12")
	}
	if err := h.s.PayCollection(h.mid, "test", fa, "SEV"); !errors.Is(err, errCollectionDel) {
		t.Fatalf("pay after delete: %v", err)
	}
	if st := h.collection(pid).Status; st != "DELETED" {
		t.Fatalf("status %s", st)
	}
}

func TestCollectionHandleErrors(t *testing.T) {
	h := newHarness(t)
	a := h.cvsAdd()
	pid, ppass := a.Get("ProcessId"), a.Get("ProcessPass")
	wantCode(t, h.do(escott.OpCvsRef, "ProcessPass", ppass), "K10")
	wantCode(t, h.do(escott.OpCvsRef, "ProcessId", pid), "K11")
	wantCode(t, h.do(escott.OpCvsRef, "ProcessId", pid, "ProcessPass", "wrong"), "K12")
	wantCode(t, h.do(escott.OpCvsChg, "ProcessId", pid, "ProcessPass", ppass), "K50|K23")
	// A card transaction's handle is not a collection.
	tp, tq := h.auth(escott.OpAuth)
	wantCode(t, h.do(escott.OpCvsRef, "ProcessId", tp, "ProcessPass", tq), "K12")
}

func TestCollectionAddValidation(t *testing.T) {
	h := newHarness(t)
	past := escott.TransactionDate(h.s.Now()) + "0959" // 09:59 today, now is 10:00
	cases := []struct {
		name string
		kv   []string
		want string
	}{
		{"PayLimit 60 days", []string{"PayLimit", h.payLimit(60)}, "OK"},
		{"PayLimit 61 days", []string{"PayLimit", h.payLimit(61)}, "K50"},
		{"PayLimit later today", []string{"PayLimit", escott.TransactionDate(h.s.Now()) + "1001"}, "OK"},
		{"PayLimit passed", []string{"PayLimit", past}, "K50"},
		{"PayLimit 8 digits", []string{"PayLimit", "20260410"}, "K50"},
		{"PayLimit bad time", []string{"PayLimit", "202604102460"}, "K50"},
		{"no PayLimit", []string{"PayLimit", absent}, "K50"},
		{"Amount zero", []string{"Amount", "0"}, "K23"},
		{"no NameKanji", []string{"NameKanji", absent}, "K51"},
		{"NameKanji 41", []string{"NameKanji", strings.Repeat("山", 41)}, "K51"},
		{"no NameKana", []string{"NameKana", absent}, "K52"},
		{"NameKana = NameKanji (PRO fallback)", []string{"NameKana", "山田太郎"}, "OK"},
		{"ShouhinName 16", []string{"ShouhinName", strings.Repeat("商", 13) + "…他Ａ"}, "OK"},
		{"ShouhinName 17", []string{"ShouhinName", strings.Repeat("商", 17)}, "K53"},
		{"ShouhinName half-width", []string{"ShouhinName", "Test item"}, "K53"},
		{"ShouhinName half-width kana", []string{"ShouhinName", "ｼｮｳﾋﾝ"}, "K53"},
		{"no ShouhinName", []string{"ShouhinName", absent}, "K53"},
		{"TelNo digits", []string{"TelNo", "0312345678"}, "OK"},
		{"TelNo short", []string{"TelNo", "123"}, "K28"},
		{"TelNo full-width", []string{"TelNo", "０９０１２３４５６７８"}, "K28"},
		{"TelNo international", []string{"TelNo", "+81-90-1234-5678"}, "K28"},
		{"no TelNo", []string{"TelNo", absent}, "K28"},
		{"no ReturnURL (admin register)", []string{"ReturnURL", absent}, "OK"},
		{"ReturnURL relative", []string{"ReturnURL", "/shop"}, "K60"},
		{"ReturnURL ftp", []string{"ReturnURL", "ftp://shop.example/"}, "K60"},
		{"Free1 ok", []string{"Free1", "memo"}, "OK"},
		{"Free7 too long", []string{"Free7", strings.Repeat("x", 65)}, "K54"},
		{"Comment too long", []string{"Comment", strings.Repeat("x", 257)}, "K55"},
		{"TenantId sent anyway", []string{"TenantId", "0001"}, "OK"},
		{"many", []string{"Amount", "x", "PayLimit", "1", "NameKanji", absent, "NameKana", absent, "ShouhinName", "abc", "TelNo", "x", "ReturnURL", "x"}, "K23|K50|K51|K52|K53|K28|K60"},
	}
	base := []string{"Amount", "3630", "PayLimit", h.payLimit(7), "NameKanji", "山田太郎", "NameKana", "ヤマダタロウ",
		"TelNo", "090-1234-5678", "ShouhinName", "テスト商品", "ReturnURL", "https://shop.example/"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, h.do(escott.OpCvsAdd, append(append([]string{}, base...), tc.kv...)...), tc.want)
		})
	}
}

func TestCollectionSixtyDays(t *testing.T) {
	h := newHarness(t)
	a := h.cvsAdd("PayLimit", h.payLimit(60))
	pid, ppass := a.Get("ProcessId"), a.Get("ProcessPass")
	b := h.cvsAdd("PayLimit", h.payLimit(60))
	h.s.Advance(61 * 24 * time.Hour)
	wantCode(t, h.do(escott.OpCvsChg, "ProcessId", pid, "ProcessPass", ppass, "PayLimit", h.payLimit(3), "Amount", "1"), "K12")
	wantCode(t, h.do(escott.OpCvsDel, "ProcessId", pid, "ProcessPass", ppass), "K12")
	// 2Ref still answers, so an expired collection can be reconciled.
	h.must(escott.OpCvsRef, "ProcessId", pid, "ProcessPass", ppass)
	if err := h.s.PayCollection(h.mid, "test", b.Get("FreeArea"), "SEV"); !errors.Is(err, errPastPayLimit) {
		t.Fatalf("pay after the due date: %v", err)
	}
}

func TestPayCollectionErrors(t *testing.T) {
	h := newHarness(t)
	a := h.cvsAdd("PayLimit", escott.TransactionDate(h.s.Now())+"2359")
	fa := a.Get("FreeArea")
	cases := []struct {
		name, merchant, env, code, cvs string
		want                           error
	}{
		{"unknown channel", h.mid, "test", fa, "XXX", errUnknownCvs},
		{"unknown merchant", "1", "test", fa, "SEV", errNoMerchant},
		{"bad env", h.mid, "staging", fa, "SEV", errBadEnv},
		{"other env", h.mid, "production", fa, "SEV", errNoCollection},
		{"unknown code", h.mid, "test", "nope", "SEV", errNoCollection},
	}
	for _, tc := range cases {
		if err := h.s.PayCollection(tc.merchant, tc.env, tc.code, tc.cvs); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Every channel of spec §10.9 is accepted; paying at 23:59:59 of the
	// due day still works.
	for i, cvs := range escott.CvsCodes {
		b := h.cvsAdd("MerchantFree1", "00000000000"+string(rune('0'+i%10)))
		if err := h.s.PayCollection(h.mid, "test", b.Get("FreeArea"), cvs); err != nil {
			t.Fatalf("%s: %v", cvs, err)
		}
	}
	h.s.SetTime(time.Date(2026, 4, 1, 23, 59, 59, 0, escott.JST))
	if err := h.s.PayCollection(h.mid, "test", fa, ""); err != nil {
		t.Fatalf("pay at 23:59:59: %v", err)
	}
	if cv := h.s.Collections(h.mid, "test")[0]; cv.CvsCd != "SEV" {
		t.Fatalf("default channel %q", cv.CvsCd)
	}
}
