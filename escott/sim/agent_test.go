package sim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

// addCollection registers a collection (2Add) for the demo merchant on an
// environment and returns the answer.
func addCollection(t *testing.T, s *Server, pass string) escott.Params {
	t.Helper()
	limit, err := escott.PayLimitFromDueDays(s.Now(), 7)
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{}
	v.Set("MerchantId", DemoMerchant.MerchantID)
	v.Set("MerchantPass", pass)
	v.Set("TransactionDate", escott.TransactionDate(s.Now()))
	v.Set("MerchantFree1", "000771020345")
	v.Set("MerchantFree2", "1235")
	v.Set("Amount", "3630")
	v.Set("OperateId", string(escott.OpCvsAdd))
	v.Set("PayLimit", limit)
	v.Set("NameKanji", "山田太郎")
	v.Set("NameKana", "ヤマダタロウ")
	v.Set("TelNo", "09012345678")
	v.Set("ShouhinName", "テスト商品")
	v.Set("ReturnURL", "https://shop.example/")
	ans := s.process(escott.EndpointCollection, v)
	if ans.Get("ResponseCd") != "OK" || ans.Get("FreeArea") == "" {
		t.Fatalf("2Add: %v", ans)
	}
	return ans
}

// notifyReceiver is a merchant notification endpoint answering the given
// statuses in turn (the last one repeatedly).
type notifyReceiver struct {
	t        *testing.T
	statuses chan int
	got      chan url.Values
	last     int
}

func startReceiver(t *testing.T, statuses ...int) (*notifyReceiver, string) {
	r := &notifyReceiver{t: t, statuses: make(chan int, len(statuses)), got: make(chan url.Values, 16), last: http.StatusOK}
	for _, s := range statuses {
		r.statuses <- s
	}
	if len(statuses) > 0 {
		r.last = statuses[len(statuses)-1]
	}
	srv := newTestHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("notification: %s %s", req.Method, req.Header.Get("Content-Type"))
		}
		if err := req.ParseForm(); err != nil {
			t.Error(err)
		}
		r.got <- req.PostForm
		status := r.last
		select {
		case status = <-r.statuses:
		default:
		}
		w.WriteHeader(status)
	}))
	return r, srv.URL + "/?wc-api=wc_sonypayment"
}

func (r *notifyReceiver) next() url.Values {
	r.t.Helper()
	select {
	case v := <-r.got:
		return v
	case <-time.After(5 * time.Second):
		r.t.Fatal("no notification received")
		return nil
	}
}

func (r *notifyReceiver) none() {
	r.t.Helper()
	select {
	case v := <-r.got:
		r.t.Fatalf("unexpected notification %v", v)
	case <-time.After(100 * time.Millisecond):
	}
}

func withNotifyURL(u string) func(*Config) {
	return func(c *Config) {
		m := DemoMerchant
		m.NotifyURL = u
		c.Merchants = []Merchant{m}
	}
}

func TestAgentPayAndNotify(t *testing.T) {
	recv, notifyURL := startReceiver(t, http.StatusOK)
	b := startBrowserSim(t, withNotifyURL(notifyURL))
	add := addCollection(t, b.s, DemoMerchant.TestPass)
	code := add.Get("FreeArea")

	for _, rkbn := range []string{"1", "2", ""} {
		q := url.Values{"code": {code}}
		if rkbn != "" {
			q.Set("rkbn", rkbn)
		}
		status, h, body := b.do(http.MethodGet, escott.PathAgentTest, q)
		if status != http.StatusOK {
			t.Fatalf("rkbn %q: status %d", rkbn, status)
		}
		checkPage(t, h, body)
		for _, want := range []string{"3,630", "テスト商品", "未入金", "日本時間", `value="SEV"`, `value="ATM"`, `value="EDY"`} {
			if !strings.Contains(body, want) {
				t.Errorf("agent page lacks %q", want)
			}
		}
	}

	status, h, body := b.do(http.MethodPost, escott.PathAgentTest, url.Values{"code": {code}, "rkbn": {"1"}, "cvs": {"SEV"}})
	if status != http.StatusOK {
		t.Fatalf("pay: status %d\n%s", status, body)
	}
	checkPage(t, h, body)
	if !strings.Contains(body, "お支払いが完了しました") || !strings.Contains(body, "セブンイレブン") || !strings.Contains(body, `href="https://shop.example/"`) {
		t.Errorf("receipt page:\n%s", body)
	}

	n := recv.next()
	for _, k := range []string{"MerchantId", "TransactionId", "RecvNum", "NyukinDate", "MerchantFree1", "MerchantFree2"} {
		if n.Get(k) == "" {
			t.Errorf("notification lacks %s: %v", k, n)
		}
	}
	if n.Get("MerchantId") != DemoMerchant.MerchantID || n.Get("MerchantFree1") != "000771020345" || n.Get("CvsCd") != "SEV" {
		t.Errorf("notification: %v", n)
	}
	if _, err := escott.ParseNyukinDate(n.Get("NyukinDate")); err != nil {
		t.Error(err)
	}
	flush(t, b.s)
	views := b.s.Notifications()
	if len(views) != 1 || !views[0].Delivered || views[0].Attempts != 1 || views[0].LastStatus != "200" {
		t.Errorf("delivery log: %+v", views)
	}

	// The paid collection shows as paid; paying again is not possible.
	status, _, body = b.do(http.MethodGet, escott.PathAgentTest, url.Values{"code": {code}, "rkbn": {"2"}})
	if status != http.StatusOK || !strings.Contains(body, "お支払い済み") {
		t.Errorf("paid page: %d", status)
	}
	status, _, _ = b.do(http.MethodPost, escott.PathAgentTest, url.Values{"code": {code}, "rkbn": {"1"}, "cvs": {"LSN"}})
	if status != http.StatusOK {
		t.Errorf("paying twice: %d", status)
	}
	recv.none()
}

func TestAgentStates(t *testing.T) {
	b := startBrowserSim(t, nil)
	code := addCollection(t, b.s, DemoMerchant.TestPass).Get("FreeArea")
	prodCode := addCollection(t, b.s, DemoMerchant.ProdPass).Get("FreeArea")

	tests := []struct {
		name   string
		method string
		path   string
		form   url.Values
		status int
		want   string
	}{
		{"unknown code", http.MethodGet, escott.PathAgentTest, url.Values{"code": {"NOPE"}, "rkbn": {"1"}}, 404, "見つかりません"},
		{"test code on production", http.MethodGet, escott.PathAgentProd, url.Values{"code": {code}, "rkbn": {"1"}}, 404, "見つかりません"},
		{"production code", http.MethodGet, escott.PathAgentProd, url.Values{"code": {prodCode}, "rkbn": {"1"}}, 200, "3,630"},
		{"no code", http.MethodGet, escott.PathAgentTest, nil, 400, "code"},
		{"bad rkbn", http.MethodGet, escott.PathAgentTest, url.Values{"code": {code}, "rkbn": {"9"}}, 400, "rkbn"},
		{"unknown channel", http.MethodPost, escott.PathAgentTest, url.Values{"code": {code}, "rkbn": {"1"}, "cvs": {"XYZ"}}, 400, "Choose a payment channel"},
		{"PUT", http.MethodPut, escott.PathAgentTest, nil, 405, "Method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := b.do(tt.method, tt.path, tt.form)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			checkPage(t, h, body)
			if !strings.Contains(body, tt.want) {
				t.Errorf("page lacks %q", tt.want)
			}
		})
	}

	// Replaced by 2Chg: the old code says so, the new one works.
	add := addCollection(t, b.s, DemoMerchant.TestPass)
	limit, _ := escott.PayLimitFromDueDays(b.s.Now(), 10)
	v := url.Values{}
	v.Set("MerchantId", DemoMerchant.MerchantID)
	v.Set("MerchantPass", DemoMerchant.TestPass)
	v.Set("TransactionDate", today())
	v.Set("MerchantFree1", "000771020345")
	v.Set("OperateId", "2Chg")
	v.Set("ProcessId", add.Get("ProcessId"))
	v.Set("ProcessPass", add.Get("ProcessPass"))
	v.Set("PayLimit", limit)
	v.Set("Amount", "4000")
	chg := b.s.process(escott.EndpointCollection, v)
	if chg.Get("ResponseCd") != "OK" {
		t.Fatalf("2Chg: %v", chg)
	}
	if status, _, body := b.do(http.MethodGet, escott.PathAgentTest, url.Values{"code": {add.Get("FreeArea")}, "rkbn": {"2"}}); status != 410 || !strings.Contains(body, "変更されました") {
		t.Errorf("replaced code: %d", status)
	}
	if status, _, body := b.do(http.MethodGet, escott.PathAgentTest, url.Values{"code": {chg.Get("FreeArea")}, "rkbn": {"2"}}); status != 200 || !strings.Contains(body, "4,000") {
		t.Errorf("new code: %d", status)
	}

	// Deleted by 2Del.
	v.Set("OperateId", "2Del")
	v.Del("PayLimit")
	v.Del("Amount")
	if del := b.s.process(escott.EndpointCollection, v); del.Get("ResponseCd") != "OK" {
		t.Fatalf("2Del: %v", del)
	}
	if status, _, body := b.do(http.MethodGet, escott.PathAgentTest, url.Values{"code": {chg.Get("FreeArea")}, "rkbn": {"2"}}); status != 410 || !strings.Contains(body, "取り消されました") {
		t.Errorf("deleted: %d", status)
	}
	if status, _, _ := b.do(http.MethodPost, escott.PathAgentTest, url.Values{"code": {chg.Get("FreeArea")}, "rkbn": {"2"}, "cvs": {"SEV"}}); status != 410 {
		t.Errorf("paying a deleted collection: %d", status)
	}

	// Expired: past PayLimit on the simulator clock.
	b.s.Advance(8 * 24 * time.Hour)
	if status, _, body := b.do(http.MethodGet, escott.PathAgentTest, url.Values{"code": {code}, "rkbn": {"1"}}); status != 410 || !strings.Contains(body, "期限") {
		t.Errorf("expired: %d", status)
	}
	if status, _, _ := b.do(http.MethodPost, escott.PathAgentTest, url.Values{"code": {code}, "rkbn": {"1"}, "cvs": {"SEV"}}); status != 410 {
		t.Errorf("paying an expired collection: %d", status)
	}
}

func TestAgentChannelsMatchCvsCodes(t *testing.T) {
	var codes []string
	for _, g := range agentGroups {
		for _, c := range g.Channels {
			codes = append(codes, c.Code)
		}
	}
	a, b := slices.Clone(codes), slices.Clone(escott.CvsCodes)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Errorf("agent page channels %v, escott.CvsCodes %v", a, b)
	}
}
