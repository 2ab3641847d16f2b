package conformance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// collectionRequest is a valid 2Add for the fixture's clock.
func (f *fixture) collectionRequest(dueDays int) escott.CollectionRequest {
	f.t.Helper()
	limit, err := escott.PayLimitFromDueDays(f.sim.Now(), dueDays)
	if err != nil {
		f.t.Fatal(err)
	}
	r := f.ref("order-77")
	return escott.CollectionRequest{
		Ref:         r,
		Amount:      5830,
		PayLimit:    limit,
		NameKanji:   "山田太郎",
		NameKana:    "ヤマダタロウ",
		TelNo:       "03-1234-5678",
		ShouhinName: "テスト商品",
		ReturnURL:   "https://shop.example/",
	}
}

// register sends 2Add and fails the test unless it succeeds.
func (f *fixture) register(req escott.CollectionRequest) *escott.CollectionResult {
	f.t.Helper()
	res, err := f.c.RegisterCollection(f.ctx, req)
	if err != nil {
		f.t.Fatalf("2Add: %v", err)
	}
	return res
}

// TestCollectionRegister covers 2Add and 2Ref of an unpaid collection: the
// answer's handle and payment code, the payment URL on the simulator's
// agent page, and the simulator's record.
func TestCollectionRegister(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	req := f.collectionRequest(7)
	res := f.register(req)
	if res.OperateID() != escott.OpCvsAdd || res.MerchantFree1() != req.MerchantFree1 || res.TransactionID == "" {
		t.Fatalf("answer %v", res.Fields)
	}
	if res.Process.ProcessID == "" || res.Process.ProcessPass == "" || res.FreeArea == "" {
		t.Fatalf("handle %+v free area %q", res.Process, res.FreeArea)
	}
	col, ok := f.collection(res.Process.ProcessID)
	if !ok || col.Status != "UNPAID" || col.Amount != 5830 || col.PayLimit != req.PayLimit || col.FreeArea != res.FreeArea ||
		col.NameKana != req.NameKana || col.ShouhinName != req.ShouhinName || col.TelNo != req.TelNo || col.MerchantFree2 != "order-77" {
		t.Fatalf("simulator collection %+v", col)
	}

	for _, redisplay := range []bool{false, true} {
		u, err := url.Parse(f.c.PaymentURL(res.FreeArea, redisplay))
		if err != nil {
			t.Fatal(err)
		}
		wantRkbn := map[bool]string{false: "1", true: "2"}[redisplay]
		if u.Scheme+"://"+u.Host != f.srv.URL || u.Path != escott.PathAgentTest || u.Query().Get("code") != res.FreeArea || u.Query().Get("rkbn") != wantRkbn {
			t.Fatalf("PaymentURL %s", u)
		}
		status, page := f.browse(http.MethodGet, u.String(), nil)
		if status != http.StatusOK || !strings.Contains(page, "5,830") {
			t.Fatalf("agent page: %d\n%s", status, page)
		}
	}

	st, err := f.c.ReferCollection(f.ctx, escott.Ref{MerchantFree1: req.MerchantFree1}, res.Process)
	wantOK(t, err)
	if st.Paid || st.NyukinDate != "" || st.Amount != 5830 {
		t.Fatalf("2Ref unpaid: %+v", st)
	}
	// TenantId is not sent on collection calls; a client without one
	// works the same.
	noTenant := f.client(escott.Merchant{MerchantID: demoID, MerchantPass: sim.DemoMerchant.TestPass})
	if _, err := noTenant.ReferCollection(f.ctx, escott.Ref{}, res.Process); err != nil {
		t.Fatalf("2Ref without TenantId: %v", err)
	}
}

// TestCollectionPay pays through the simulator's Go API and through the
// agent page: 2Ref then reports the payment.
func TestCollectionPay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, via := range []string{"PayCollection", "agent page"} {
		res := f.register(f.collectionRequest(10))
		cvs := "FAM"
		switch via {
		case "PayCollection":
			if err := f.sim.PayCollection(demoID, "test", res.FreeArea, cvs); err != nil {
				t.Fatal(err)
			}
		default:
			cvs = "LSN"
			u, _ := url.Parse(f.c.PaymentURL(res.FreeArea, false))
			_, page := f.browse(http.MethodGet, u.String(), nil)
			forms := parseForms(page)
			if len(forms) == 0 {
				t.Fatalf("no form on the agent page:\n%s", page)
			}
			form := forms[0]
			fields := form.Fields
			fields.Set("cvs", cvs)
			status, receipt := f.browse(http.MethodPost, f.resolve(form.Action), fields)
			if status != http.StatusOK {
				t.Fatalf("paying on the agent page: %d\n%s", status, receipt)
			}
		}
		st, err := f.c.ReferCollection(f.ctx, escott.Ref{}, res.Process)
		wantOK(t, err)
		if !st.Paid || st.RecvNum == "" || st.CvsCd != cvs || st.Amount != 5830 {
			t.Fatalf("%s: 2Ref %+v", via, st)
		}
		paidAt, err := escott.ParseNyukinDate(st.NyukinDate)
		if err != nil || !paidAt.Equal(f.sim.Now().Truncate(time.Second)) {
			t.Fatalf("%s: NyukinDate %q (%v), simulator now %v", via, st.NyukinDate, err, f.sim.Now())
		}
		col, _ := f.collection(res.Process.ProcessID)
		if col.Status != "PAID" || col.RecvNum != st.RecvNum || col.CvsCd != cvs || col.PaidTransactionID == "" {
			t.Fatalf("%s: simulator %+v", via, col)
		}
		// Paying twice is refused.
		if err := f.sim.PayCollection(demoID, "test", res.FreeArea, "SEV"); err == nil {
			t.Fatalf("%s: second payment accepted", via)
		}
	}
}

// TestCollectionChange covers 2Chg: one change with a new FreeArea (the
// old code no longer pays), a second change refused, and no change after
// payment.
func TestCollectionChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res := f.register(f.collectionRequest(7))
	newLimit, _ := escott.PayLimitFromDueDays(f.sim.Now(), 14)
	chg, err := f.c.ChangeCollection(f.ctx, escott.Ref{MerchantFree1: "000000000042"}, res.Process, newLimit, 6000)
	wantOK(t, err)
	if chg.OperateID() != escott.OpCvsChg || chg.FreeArea == "" || chg.FreeArea == res.FreeArea {
		t.Fatalf("2Chg FreeArea %q (old %q)", chg.FreeArea, res.FreeArea)
	}
	if chg.Process != res.Process {
		t.Fatalf("2Chg handle %+v, want %+v", chg.Process, res.Process)
	}
	col, _ := f.collection(res.Process.ProcessID)
	if col.FreeArea != chg.FreeArea || col.Amount != 6000 || col.PayLimit != newLimit || !col.Changed {
		t.Fatalf("simulator after 2Chg %+v", col)
	}
	// The payment link changes with it; the old one is gone.
	if status, _ := f.browse(http.MethodGet, f.c.PaymentURL(res.FreeArea, true), nil); status != http.StatusGone {
		t.Fatalf("old payment code page: %d", status)
	}
	if err := f.sim.PayCollection(demoID, "test", res.FreeArea, "SEV"); err == nil {
		t.Fatal("the replaced payment code still pays")
	}

	_, err = f.c.ChangeCollection(f.ctx, escott.Ref{}, res.Process, newLimit, 7000)
	if e := wantCode(t, err, "K14"); e.Class() != escott.ClassTransactionState {
		t.Fatalf("class %v", e.Class())
	}
	if col, _ := f.collection(res.Process.ProcessID); col.Amount != 6000 || col.FreeArea != chg.FreeArea {
		t.Fatalf("second 2Chg changed the collection: %+v", col)
	}

	// After payment, neither change nor deletion.
	paid := f.register(f.collectionRequest(7))
	if err := f.sim.PayCollection(demoID, "test", paid.FreeArea, "SEV"); err != nil {
		t.Fatal(err)
	}
	_, err = f.c.ChangeCollection(f.ctx, escott.Ref{}, paid.Process, newLimit, 7000)
	wantCode(t, err, "K14")
	_, err = f.c.DeleteCollection(f.ctx, escott.Ref{}, paid.Process)
	wantCode(t, err, "K14")
	if col, _ := f.collection(paid.Process.ProcessID); col.Status != "PAID" {
		t.Fatalf("status %s", col.Status)
	}
}

// TestCollectionDelete covers 2Del: afterwards 2Ref, 2Chg and 2Del answer
// K12, the payment code no longer pays.
func TestCollectionDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res := f.register(f.collectionRequest(7))
	del, err := f.c.DeleteCollection(f.ctx, escott.Ref{MerchantFree1: "000000000043"}, res.Process)
	wantOK(t, err)
	if del.OperateID() != escott.OpCvsDel {
		t.Fatalf("OperateId %s", del.OperateID())
	}
	if col, _ := f.collection(res.Process.ProcessID); col.Status != "DELETED" {
		t.Fatalf("simulator status %s", col.Status)
	}
	st, err := f.c.ReferCollection(f.ctx, escott.Ref{}, res.Process)
	if e := wantCode(t, err, "K12"); st == nil || st.Paid || e.Class() != escott.ClassTransactionState {
		t.Fatalf("2Ref after 2Del: %+v", st)
	}
	limit, _ := escott.PayLimitFromDueDays(f.sim.Now(), 3)
	_, err = f.c.ChangeCollection(f.ctx, escott.Ref{}, res.Process, limit, 100)
	wantCode(t, err, "K12")
	_, err = f.c.DeleteCollection(f.ctx, escott.Ref{}, res.Process)
	wantCode(t, err, "K12")
	if err := f.sim.PayCollection(demoID, "test", res.FreeArea, "SEV"); err == nil {
		t.Fatal("a deleted collection was paid")
	}
	if status, _ := f.browse(http.MethodGet, f.c.PaymentURL(res.FreeArea, false), nil); status != http.StatusGone {
		t.Fatalf("agent page of a deleted collection: %d", status)
	}
}

// TestCollectionValidation covers the 2Add field checks: PayLimit beyond
// 60 days or in the past (K50), NameKanji (K51), NameKana (K52),
// ShouhinName (K53), TelNo (K28), ReturnURL (K60), Amount (K23); several
// errors come together; nothing is registered.
func TestCollectionValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	day := func(n int) string {
		return f.sim.Now().In(escott.JST).AddDate(0, 0, n).Format("20060102") + "2359"
	}
	cases := []struct {
		name  string
		mod   func(*escott.CollectionRequest)
		codes []string
	}{
		{"PayLimit day 60 is fine", func(r *escott.CollectionRequest) { r.PayLimit = day(60) }, nil},
		{"PayLimit day 61", func(r *escott.CollectionRequest) { r.PayLimit = day(61) }, []string{"K50"}},
		{"PayLimit in the past", func(r *escott.CollectionRequest) { r.PayLimit = day(-1) }, []string{"K50"}},
		{"PayLimit earlier today", func(r *escott.CollectionRequest) { r.PayLimit = day(0)[:8] + "0900" }, []string{"K50"}},
		{"NameKanji empty", func(r *escott.CollectionRequest) { r.NameKanji = "" }, []string{"K51"}},
		{"NameKana empty", func(r *escott.CollectionRequest) { r.NameKana = "" }, []string{"K52"}},
		{"NameKana too long", func(r *escott.CollectionRequest) { r.NameKana = strings.Repeat("ア", 41) }, []string{"K52"}},
		{"ShouhinName 17 characters", func(r *escott.CollectionRequest) { r.ShouhinName = strings.Repeat("品", 17) }, []string{"K53"}},
		{"ShouhinName half-width", func(r *escott.CollectionRequest) { r.ShouhinName = "Tshirt" }, []string{"K53"}},
		{"ShouhinName half-width kana", func(r *escott.CollectionRequest) { r.ShouhinName = "ｼｬﾂ" }, []string{"K53"}},
		{"ShouhinName 16 characters is fine", func(r *escott.CollectionRequest) { r.ShouhinName = strings.Repeat("品", 16) }, nil},
		{"TelNo letters", func(r *escott.CollectionRequest) { r.TelNo = "03-ABCD-5678" }, []string{"K28"}},
		{"TelNo too short", func(r *escott.CollectionRequest) { r.TelNo = "12345" }, []string{"K28"}},
		{"TelNo mobile is fine", func(r *escott.CollectionRequest) { r.TelNo = "09012345678" }, nil},
		{"ReturnURL not a URL", func(r *escott.CollectionRequest) { r.ReturnURL = "shop" }, []string{"K60"}},
		{"several", func(r *escott.CollectionRequest) {
			r.PayLimit = day(90)
			r.TelNo = "x"
			r.ShouhinName = ""
		}, []string{"K50", "K53", "K28"}},
	}
	valid := 0
	for _, tc := range cases {
		req := f.collectionRequest(7)
		tc.mod(&req)
		res, err := f.c.RegisterCollection(f.ctx, req)
		if tc.codes == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			valid++
			continue
		}
		e, ok := escott.AsError(err)
		if !ok || e.NoAnswer() || strings.Join(e.Codes, "|") != strings.Join(tc.codes, "|") {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.codes)
			continue
		}
		if e.Class() != escott.ClassCollection {
			t.Errorf("%s: class %v", tc.name, e.Class())
		}
		if res == nil || res.Process.ProcessID != "" || res.FreeArea != "" {
			t.Errorf("%s: a refusal carries no handle: %+v", tc.name, res)
		}
	}
	if n := len(f.sim.Collections(demoID, "test")); n != valid {
		t.Fatalf("%d collections registered, want %d", n, valid)
	}
	// Client-side refusals: amount, PayLimit format.
	req := f.collectionRequest(7)
	req.Amount = 0
	if _, err := f.c.RegisterCollection(f.ctx, req); err == nil {
		t.Fatal("zero amount must be refused client-side")
	}
	req = f.collectionRequest(7)
	req.PayLimit = "2026-04-08"
	if _, err := f.c.RegisterCollection(f.ctx, req); err == nil {
		t.Fatal("malformed PayLimit must be refused client-side")
	}
	// 2Chg validates the new PayLimit the same way.
	res := f.register(f.collectionRequest(7))
	_, err := f.c.ChangeCollection(f.ctx, escott.Ref{}, res.Process, day(61), 100)
	wantCode(t, err, "K50")
	if col, _ := f.collection(res.Process.ProcessID); col.Changed {
		t.Fatal("a refused 2Chg used up the one change")
	}
}

// TestCollectionSixtyDays: 2Chg and 2Del answer K12 after the 60-day
// handling period; 2Ref still answers.
func TestCollectionSixtyDays(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res := f.register(f.collectionRequest(60))
	f.sim.Advance(61 * 24 * time.Hour)
	limit, _ := escott.PayLimitFromDueDays(f.sim.Now(), 5)
	_, err := f.c.ChangeCollection(f.ctx, escott.Ref{}, res.Process, limit, 100)
	wantCode(t, err, "K12")
	_, err = f.c.DeleteCollection(f.ctx, escott.Ref{}, res.Process)
	wantCode(t, err, "K12")
	if _, err := f.c.ReferCollection(f.ctx, escott.Ref{}, res.Process); err != nil {
		t.Fatalf("2Ref after 60 days: %v", err)
	}
}

// notifyReceiver is a merchant endpoint that records every notification.
type notifyReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []url.Values
	// status answers each request (by arrival order); default 200.
	status func(n int) int
	ch     chan url.Values
}

func newNotifyReceiver(t testing.TB) *notifyReceiver {
	r := &notifyReceiver{ch: make(chan url.Values, 16)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if err := req.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, req.PostForm)
		r.mu.Unlock()
		status := http.StatusOK
		if r.status != nil {
			status = r.status(n)
		}
		w.WriteHeader(status)
		if status == http.StatusOK {
			r.ch <- req.PostForm
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *notifyReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// wait returns the next accepted notification.
func (r *notifyReceiver) wait(t testing.TB) url.Values {
	t.Helper()
	select {
	case v := <-r.ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no notification arrived")
		return nil
	}
}

// withNotify configures the demo merchant's NotifyURL.
func withNotify(u string, retry ...time.Duration) func(*sim.Config) {
	return func(c *sim.Config) {
		m := sim.DemoMerchant
		m.NotifyURL = u
		c.Merchants = []sim.Merchant{m}
		c.NotifyRetry = retry
	}
}

// TestNotification: paying a collection sends the payment notification to
// the merchant's NotifyURL; it parses with escott.ParseNotification and
// agrees with 2Ref and the simulator.
func TestNotification(t *testing.T) {
	t.Parallel()
	recv := newNotifyReceiver(t)
	f := newFixture(t, withNotify(recv.srv.URL))
	req := f.collectionRequest(7)
	res := f.register(req)
	if err := f.sim.PayCollection(demoID, "test", res.FreeArea, "SEV"); err != nil {
		t.Fatal(err)
	}
	fields := recv.wait(t)
	if !escott.IsNotification(fields) {
		t.Fatalf("not recognised as a notification: %v", fields)
	}
	n, err := escott.ParseNotification(fields)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.c.ReferCollection(f.ctx, escott.Ref{}, res.Process)
	wantOK(t, err)
	col, _ := f.collection(res.Process.ProcessID)
	if n.MerchantID != demoID || n.MerchantFree1 != req.MerchantFree1 || n.MerchantFree2 != "order-77" ||
		n.RecvNum != st.RecvNum || n.NyukinDate != st.NyukinDate || n.CvsCd != "SEV" || n.TransactionID != col.PaidTransactionID {
		t.Fatalf("notification %+v\n2Ref %+v\nsimulator %+v", n, st, col)
	}
	if escott.CvsName(n.CvsCd) != "セブンイレブン" {
		t.Fatalf("CvsName %q", escott.CvsName(n.CvsCd))
	}
	// The simulator's delivery log agrees.
	if err := f.sim.FlushNotifications(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := f.sim.Notifications()
	if len(log) != 1 || !log[0].Delivered || log[0].Attempts != 1 || log[0].LastStatus != "200" {
		t.Fatalf("delivery log %+v", log)
	}
}

// TestNotificationRetryAndFaults: a notification the merchant refuses is
// retried until accepted; the drop and duplicate faults lose or double
// one.
func TestNotificationRetryAndFaults(t *testing.T) {
	t.Parallel()
	t.Run("retry", func(t *testing.T) {
		t.Parallel()
		recv := newNotifyReceiver(t)
		recv.status = func(n int) int {
			if n < 2 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}
		f := newFixture(t, withNotify(recv.srv.URL, 10*time.Millisecond, 10*time.Millisecond, 10*time.Millisecond))
		res := f.register(f.collectionRequest(7))
		if err := f.sim.PayCollection(demoID, "test", res.FreeArea, "LSN"); err != nil {
			t.Fatal(err)
		}
		if _, err := escott.ParseNotification(recv.wait(t)); err != nil {
			t.Fatal(err)
		}
		if err := f.sim.FlushNotifications(context.Background()); err != nil {
			t.Fatal(err)
		}
		log := f.sim.Notifications()
		if recv.count() != 3 || len(log) != 1 || log[0].Attempts != 3 || !log[0].Delivered {
			t.Fatalf("received %d, log %+v", recv.count(), log)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		t.Parallel()
		recv := newNotifyReceiver(t)
		f := newFixture(t, withNotify(recv.srv.URL))
		f.sim.AddFault(sim.Fault{Kind: sim.FaultDuplicateNotification, Times: 1})
		res := f.register(f.collectionRequest(7))
		if err := f.sim.PayCollection(demoID, "test", res.FreeArea, "SEV"); err != nil {
			t.Fatal(err)
		}
		a, b := recv.wait(t), recv.wait(t)
		if a.Encode() != b.Encode() {
			t.Fatalf("duplicate differs: %v / %v", a, b)
		}
		if len(f.sim.Faults()) != 0 {
			t.Fatal("Times: 1 fault not consumed")
		}
	})
	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		recv := newNotifyReceiver(t)
		f := newFixture(t, withNotify(recv.srv.URL))
		f.sim.AddFault(sim.Fault{Kind: sim.FaultDropNotification, Times: 1})
		first := f.register(f.collectionRequest(7))
		second := f.register(f.collectionRequest(7))
		if err := f.sim.PayCollection(demoID, "test", first.FreeArea, "SEV"); err != nil {
			t.Fatal(err)
		}
		if err := f.sim.PayCollection(demoID, "test", second.FreeArea, "SEV"); err != nil {
			t.Fatal(err)
		}
		got := recv.wait(t)
		if err := f.sim.FlushNotifications(context.Background()); err != nil {
			t.Fatal(err)
		}
		if recv.count() != 1 || got.Get("MerchantFree1") != second.MerchantFree1() {
			t.Fatalf("received %d, last %v", recv.count(), got)
		}
		// The dropped payment is still visible through 2Ref: that is how
		// a merchant reconciles a lost notification.
		st, err := f.c.ReferCollection(f.ctx, escott.Ref{}, first.Process)
		wantOK(t, err)
		if !st.Paid {
			t.Fatal("2Ref does not show the payment whose notification was dropped")
		}
	})
}
