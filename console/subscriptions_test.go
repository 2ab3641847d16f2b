package console_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/subscription"
)

// The subscriptions screen: SUB-01 … SUB-08 (pro plan), the operator's
// view of the renewal engine.

// subscriptionsCreate makes an active subscription for the customer,
// its first period paid at checkout on the saved card (SUB-02). A zero
// interval is monthly.
func subscriptionsCreate(e *env, customer string, in renewal.CreateInput) *kessai.Subscription {
	e.T.Helper()
	o := e.order(3300, forCustomer(customer))
	e.payCard(o, true)
	in.CustomerID, in.InitialOrderID = customer, o.ID
	if in.Description == "" {
		in.Description = "コーヒー定期便"
	}
	if in.Amount == 0 {
		in.Amount = 3300
	}
	if in.Interval.Unit == "" {
		in.Interval = subscription.Interval{Unit: subscription.Month, Count: 1}
	}
	sub, err := e.subs.Create(e.Ctx, shopID, in)
	if err != nil {
		e.T.Fatalf("Create: %v", err)
	}
	return sub
}

// subscriptionsGet reads a subscription and its renewals from the store.
func subscriptionsGet(e *env, id string) (*kessai.Subscription, []kessai.Renewal) {
	e.T.Helper()
	s, rs, err := e.subs.Get(e.Ctx, shopID, id)
	if err != nil {
		e.T.Fatal(err)
	}
	return s, rs
}

// subscriptionsRenew moves the clocks to the next payment and runs the
// engine.
func subscriptionsRenew(e *env, id string) {
	e.T.Helper()
	s, _ := subscriptionsGet(e, id)
	if d := s.NextAttempt.Sub(e.Clock.Now()); d > 0 {
		e.Advance(d)
	}
	if _, err := e.subs.WakeDue(e.Ctx); err != nil {
		e.T.Fatal(err)
	}
}

func subscriptionsPath(id string) string { return "/admin/subscriptions/" + id }

// subscriptionsRow cuts a subscription's row out of the list page.
func subscriptionsRow(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `<tr id="row-`+id+`">`)
	if i < 0 {
		t.Fatalf("no row for %s:\n%s", id, page)
	}
	row := page[i:]
	return row[:strings.Index(row, "</tr>")]
}

func TestSubscriptionsList(t *testing.T) {
	e := newEnv(t)
	monthly := subscriptionsCreate(e, "c1", renewal.CreateInput{})
	e.Advance(time.Minute)
	anchored := subscriptionsCreate(e, "c2", renewal.CreateInput{Description: "お米定期便", Amount: 5500,
		Interval: subscription.Interval{Unit: subscription.Month, Count: 1, AnchorDay: 25}})
	e.Advance(time.Minute)
	quarterly := subscriptionsCreate(e, "c1", renewal.CreateInput{Description: "季節の果物",
		Interval: subscription.Interval{Unit: subscription.Month, Count: 3}})
	e.Advance(time.Minute)
	weekly := subscriptionsCreate(e, "c2", renewal.CreateInput{Interval: subscription.Interval{Unit: subscription.Week, Count: 1},
		MaxPayments: 1})
	if _, err := e.subs.Pause(e.Ctx, shopID, quarterly.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.subs.Cancel(e.Ctx, shopID, anchored.ID, true); err != nil {
		t.Fatal(err)
	}
	b := e.asAdmin()

	page := b.page("/admin/subscriptions")
	// The menu links the screen on the pro plan.
	wantContains(t, page, `<a href="/admin/subscriptions" aria-current="page">定期購入</a>`, `id="subscriptions-table"`)
	wantContains(t, b.page("/admin/"), `<a href="/admin/subscriptions">定期購入</a>`)
	// Newest first.
	pos := func(id string) int { return strings.Index(page, `id="row-`+id+`"`) }
	if !(pos(weekly.ID) < pos(quarterly.ID) && pos(quarterly.ID) < pos(anchored.ID) && pos(anchored.ID) < pos(monthly.ID)) {
		t.Errorf("not newest first: %d %d %d %d", pos(weekly.ID), pos(quarterly.ID), pos(anchored.ID), pos(monthly.ID))
	}
	// BaseTime is 2026-04-01 12:00 JST: the checkout paid the first
	// month, the next payment is a month later.
	row := subscriptionsRow(t, page, monthly.ID)
	wantContains(t, row, `href="/admin/subscriptions/`+monthly.ID+`"`, `href="/admin/customers/c1"`, "コーヒー定期便",
		"3,300円", "<td>毎月</td>", `<span class="badge green">有効</span>`, "2026-05-01 12:00:00", `<td class="num">0</td>`)
	// Anchored on the 25th and set to cancel: no next payment.
	row = subscriptionsRow(t, page, anchored.ID)
	wantContains(t, row, "お米定期便", "5,500円", "<td>毎月25日</td>", "—", "期間終了時に解約")
	row = subscriptionsRow(t, page, quarterly.ID)
	wantContains(t, row, "<td>3か月ごと</td>", `<span class="badge orange">一時停止中</span>`,
		`<span class="subscriptions-hold">一時停止</span>`, "—")
	// The payment limit is reached by the checkout: it ends instead of
	// renewing.
	row = subscriptionsRow(t, page, weekly.ID)
	wantContains(t, row, "<td>毎週</td>", "終了予定")

	// Filters: status and customer.
	page = b.page("/admin/subscriptions?status=on_hold")
	wantContains(t, page, `id="row-`+quarterly.ID+`"`, `<option value="on_hold" selected>一時停止中</option>`)
	wantNotContains(t, page, `id="row-`+monthly.ID+`"`, `id="row-`+anchored.ID+`"`, `id="row-`+weekly.ID+`"`)
	page = b.page("/admin/subscriptions?customer_id=c2")
	wantContains(t, page, `id="row-`+anchored.ID+`"`, `id="row-`+weekly.ID+`"`, `value="c2"`)
	wantNotContains(t, page, `id="row-`+monthly.ID+`"`, `id="row-`+quarterly.ID+`"`)
	page = b.page("/admin/subscriptions?status=cancelled")
	wantContains(t, page, `id="subscriptions-none"`, "該当する定期購入はありません。")

	// Bad filters and cursors are the operator's mistakes: a message,
	// no error page.
	for _, c := range []struct{ query, msg string }{
		{"status=paused", "ステータスの指定が正しくありません。"},
		{"customer_id=" + url.QueryEscape("<script>"), "顧客IDは 64 文字以内の半角英数字・_・- で入力してください。"},
		{"after=ord_x", "ページの指定が正しくないため、最初のページを表示しています。"},
	} {
		r := b.get("/admin/subscriptions?" + c.query)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d", c.query, r.Status)
		}
		wantContains(t, r.Body, c.msg)
		wantNotContains(t, r.Body, "<script>")
	}
}

func TestSubscriptionsPages(t *testing.T) {
	e := newEnv(t)
	first := subscriptionsCreate(e, "c1", renewal.CreateInput{})
	// 54 more rows written straight to the store, a millisecond apart so
	// that their IDs sort by creation.
	ids := []string{first.ID}
	for i := range 54 {
		e.Advance(time.Millisecond)
		s := *first
		s.ID = kessai.NewID(renewal.IDPrefix, e.Clock.Now())
		s.Description = "定期便 " + string(rune('A'+i%26))
		if err := e.Store.CreateSubscription(e.Ctx, &s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	b := e.asAdmin()
	page := b.page("/admin/subscriptions")
	if n := strings.Count(page, `<tr id="row-`); n != 50 {
		t.Fatalf("%d rows on the first page", n)
	}
	wantContains(t, page, `id="row-`+ids[54]+`"`, `id="subscriptions-next"`)
	wantNotContains(t, page, `id="row-`+ids[4]+`"`, `id="subscriptions-first"`)
	next := html.UnescapeString(page[strings.Index(page, `href="/admin/subscriptions?after=`)+6:])
	next = next[:strings.Index(next, `"`)]
	page = b.page(next)
	if n := strings.Count(page, `<tr id="row-`); n != 5 {
		t.Fatalf("%d rows on the second page", n)
	}
	wantContains(t, page, `id="row-`+ids[4]+`"`, `id="row-`+first.ID+`"`, `id="subscriptions-first"`)
	wantNotContains(t, page, `id="subscriptions-next"`)
}

func TestSubscriptionPage(t *testing.T) {
	e := newEnv(t)
	sub := subscriptionsCreate(e, "c1", renewal.CreateInput{Metadata: map[string]string{"plan": "beans-200g"},
		EndAt: time.Date(2027, 4, 1, 0, 0, 0, 0, escott.JST), MaxPayments: 12})
	subscriptionsRenew(e, sub.ID)
	s, rs := subscriptionsGet(e, sub.ID)
	if s.Paid != 2 || len(rs) != 1 || rs[0].Status != kessai.RenewalSucceeded {
		t.Fatalf("after the renewal %+v %+v", s, rs)
	}
	b := e.asAdmin()
	page := b.page(subscriptionsPath(sub.ID))
	wantContains(t, page, "<h1>定期購入："+sub.ID+"</h1>",
		`<a href="/admin/customers/c1" id="subscription-customer">c1</a>`,
		`href="/admin/subscriptions?customer_id=c1"`,
		`<dd id="subscription-amount">3,300円</dd>`, `<dd id="subscription-interval">毎月</dd>`,
		`<dd id="subscription-start">2026-04-01 12:00:00</dd>`,
		`<dd id="subscription-trial-end">なし</dd>`,
		`<dd id="subscription-end-at">2027-04-01 00:00:00`,
		`<dd id="subscription-max-payments">12回</dd>`,
		`<dd id="subscription-first">2026-04-01 12:00:00</dd>`,
		`<dd id="subscription-paid">2回</dd>`,
		`<dd id="subscription-period-end">2026-06-01 12:00:00</dd>`,
		`<dd id="subscription-next">2026-06-01 12:00:00</dd>`,
		`href="/admin/orders/`+sub.InitialOrderID+`"`,
		"beans-200g")
	// The renewal history: May's period, its order, 成功, one attempt.
	wantContains(t, page, `<tr id="renewal-1">`, "2026-05-01 〜 2026-06-01", `href="/admin/orders/`+rs[0].OrderID+`"`,
		`<span class="badge green">成功</span>`, `<td class="num">1</td>`)
	// The actions an active subscription allows, and no others.
	wantContains(t, page, `id="subscription-pause"`, `id="subscription-cancel-at-period-end"`, `id="subscription-cancel"`,
		`action="/admin/subscriptions/`+sub.ID+`/pause"`,
		`data-confirm="この定期購入を一時停止しますか？再開するまで請求されません。"`,
		`data-confirm="支払済みの期間が終わる 2026-06-01 12:00 に解約し、以降は請求しません。よろしいですか？"`,
		`data-confirm="この定期購入を今すぐ解約しますか？以降は請求されず、元に戻せません。"`, `class="danger">今すぐ解約</button>`)
	wantNotContains(t, page, `id="subscription-resume"`, `id="subscription-keep"`)

	// English.
	page = b.page(subscriptionsPath(sub.ID) + "?lang=en")
	wantContains(t, page, "<h1>Subscription："+sub.ID+"</h1>", ">Subscriptions</a>", `<dd id="subscription-interval">Every month</dd>`,
		`<span class="badge green">Active</span>`, `<span class="badge green">succeeded</span>`, "¥3,300", ">Pause</button>",
		">Cancel now</button>", "Renewals", "Payment limit")
	wantNotContains(t, page, "一時停止")

	// Unknown and malformed ids.
	for _, id := range []string{"sub_01HZZZZZZZZZZZZZZZZZZZZZZZ", "nope"} {
		r := b.get(subscriptionsPath(id))
		if r.Status != http.StatusNotFound {
			t.Errorf("%s: HTTP %d", id, r.Status)
		}
	}
}

func TestSubscriptionIntervals(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	for _, c := range []struct {
		i      subscription.Interval
		ja, en string
	}{
		{subscription.Interval{Unit: subscription.Day, Count: 10}, "10日ごと", "Every 10 days"},
		{subscription.Interval{Unit: subscription.Week, Count: 2}, "2週間ごと", "Every 2 weeks"},
		{subscription.Interval{Unit: subscription.Month, Count: 1, AnchorDay: 25}, "毎月25日", "Every month on the 25th"},
		{subscription.Interval{Unit: subscription.Month, Count: 2, AnchorDay: 1}, "2か月ごと（1日）", "Every 2 months, on the 1st"},
		{subscription.Interval{Unit: subscription.Year, Count: 1}, "毎年", "Every year"},
		// The first anchor date on or after 1 April is 22 April.
		{subscription.Interval{Unit: subscription.Year, Count: 1, AnchorDay: 22}, "毎年4月22日", "Every year on 22 April"},
	} {
		sub := subscriptionsCreate(e, "c1", renewal.CreateInput{Interval: c.i})
		wantContains(t, b.page(subscriptionsPath(sub.ID)+"?lang=ja"), `<dd id="subscription-interval">`+c.ja+`</dd>`)
		wantContains(t, b.page(subscriptionsPath(sub.ID)+"?lang=en"), `<dd id="subscription-interval">`+c.en+`</dd>`)
	}
}

// TestSubscriptionActions runs each action from the page: the store
// changes, the page says so and offers the actions of the new state.
func TestSubscriptionActions(t *testing.T) {
	e := newEnv(t)
	sub := subscriptionsCreate(e, "c1", renewal.CreateInput{})
	b := e.asAdmin()
	page := subscriptionsPath(sub.ID)
	steps := []struct {
		action, notice string
		check          func(*kessai.Subscription) bool
		buttons, not   []string
	}{
		{"pause", "定期購入を一時停止しました。",
			func(s *kessai.Subscription) bool {
				return s.Status == kessai.SubscriptionOnHold && s.Hold == "paused" && s.NextAttempt.IsZero()
			},
			[]string{"resume", "cancel-at-period-end", "cancel"}, []string{"pause", "keep"}},
		{"resume", "定期購入を再開しました。",
			func(s *kessai.Subscription) bool {
				return s.Status == kessai.SubscriptionActive && s.Hold == "" && !s.NextAttempt.IsZero()
			},
			[]string{"pause", "cancel-at-period-end", "cancel"}, []string{"resume", "keep"}},
		{"cancel_at_period_end", "期間終了時の解約を予約しました。",
			func(s *kessai.Subscription) bool {
				return s.Status == kessai.SubscriptionActive && s.CancelAtPeriodEnd
			},
			[]string{"pause", "keep", "cancel"}, []string{"resume", "cancel-at-period-end"}},
		{"keep", "解約の予約を取り消しました。",
			func(s *kessai.Subscription) bool {
				return s.Status == kessai.SubscriptionActive && !s.CancelAtPeriodEnd
			},
			[]string{"pause", "cancel-at-period-end", "cancel"}, []string{"resume", "keep"}},
		{"cancel", "定期購入を解約しました。",
			func(s *kessai.Subscription) bool {
				return s.Status == kessai.SubscriptionCancelled && s.NextAttempt.IsZero()
			},
			nil, []string{"pause", "resume", "keep", "cancel-at-period-end", "cancel"}},
	}
	for _, st := range steps {
		r := b.post(page, page+"/"+st.action, nil)
		wantRedirect(t, r, page+"?done=")
		s, _ := subscriptionsGet(e, sub.ID)
		if !st.check(s) {
			t.Fatalf("after %s: %+v", st.action, s)
		}
		body := b.page(r.Loc)
		wantContains(t, body, `<p class="notice" role="status" id="notice">`+st.notice+`</p>`)
		for _, id := range st.buttons {
			wantContains(t, body, `id="subscription-`+id+`"`)
		}
		for _, id := range st.not {
			wantNotContains(t, body, `id="subscription-`+id+`"`)
		}
		switch st.action {
		case "cancel_at_period_end":
			wantContains(t, body, `id="subscription-ends"`, "期間終了時の解約が予約されています。2026-05-01 12:00 に解約され、以降は請求されません。",
				`<dd id="subscription-next">なし（期間終了時に解約）</dd>`)
		case "pause":
			wantContains(t, body, `id="subscription-paused"`, `<span class="subscriptions-hold" id="subscription-hold">一時停止</span>`)
		case "cancel":
			wantContains(t, body, `<span class="badge grey">キャンセル済み</span>`, `id="subscription-final"`)
		}
	}

	// Refusals: the rules say why, on the page, with 409; nothing changes.
	other := subscriptionsCreate(e, "c2", renewal.CreateInput{})
	if _, err := e.subs.Pause(e.Ctx, shopID, other.ID); err != nil {
		t.Fatal(err)
	}
	before, _ := subscriptionsGet(e, other.ID)
	for _, c := range []struct{ id, action, msg string }{
		{other.ID, "pause", "この定期購入はすでに一時停止中です。"},
		{other.ID, "keep", "この定期購入にはキャンセルの予約がありません。"},
		{sub.ID, "resume", "この定期購入はキャンセル済みのため、再開はできません。"},
		{sub.ID, "cancel", "この定期購入はキャンセル済みのため、キャンセルはできません。"},
	} {
		r := b.post(subscriptionsPath(c.id), subscriptionsPath(c.id)+"/"+c.action, nil)
		if r.Status != http.StatusConflict {
			t.Fatalf("%s %s: HTTP %d\n%s", c.id, c.action, r.Status, r.Body)
		}
		wantContains(t, r.Body, `id="form-errors"`, c.msg, "<h1>定期購入："+c.id+"</h1>")
	}
	if after, _ := subscriptionsGet(e, other.ID); !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("a refused action changed the subscription: %+v", after)
	}
	// Unknown subscription.
	r := b.post(page, subscriptionsPath("sub_01HZZZZZZZZZZZZZZZZZZZZZZZ")+"/pause", nil)
	if r.Status != http.StatusNotFound {
		t.Errorf("unknown subscription: HTTP %d", r.Status)
	}
}

// TestSubscriptionFailedRenewals: a declined renewal is in the history
// with its codes described; a hard decline puts the subscription on hold
// for failed payment with its grace period, a soft one schedules a retry
// (SUB-04).
func TestSubscriptionFailedRenewals(t *testing.T) {
	e := newEnv(t)
	soft := subscriptionsCreate(e, "c1", renewal.CreateInput{})
	hard := subscriptionsCreate(e, "c2", renewal.CreateInput{})

	fault := e.Sim.AddFault(sim.Fault{Op: escott.OpGathering, Kind: sim.FaultResponseCode, ResponseCd: "G55"})
	subscriptionsRenew(e, soft.ID)
	e.Sim.RemoveFault(fault)
	s, rs := subscriptionsGet(e, soft.ID)
	if s.Status != kessai.SubscriptionActive || s.Failures != 1 || len(rs) != 1 || rs[0].Status != kessai.RenewalFailed {
		t.Fatalf("soft decline %+v %+v", s, rs)
	}
	// Logged in after the clocks moved (sessions end after an hour idle).
	b := e.asAdmin()
	page := b.page(subscriptionsPath(soft.ID))
	wantContains(t, page, `<span class="badge red">失敗</span>`, escott.DescribeCodes([]string{"G55"}, "ja"),
		`id="subscription-retry"`, "継続課金の支払いに失敗しています（1回）。"+s.NextAttempt.In(escott.JST).Format("2006-01-02 15:04")+" に再請求します。",
		`<dd id="subscription-failures">1</dd>`, `<dd id="subscription-next">`+s.NextAttempt.In(escott.JST).Format("2006-01-02 15:04:05")+`</dd>`)
	wantContains(t, subscriptionsRow(t, b.page("/admin/subscriptions"), soft.ID), `<td class="num">1</td>`)

	fault = e.Sim.AddFault(sim.Fault{Op: escott.OpGathering, Kind: sim.FaultResponseCode, ResponseCd: "G12"})
	subscriptionsRenew(e, hard.ID)
	e.Sim.RemoveFault(fault)
	s, _ = subscriptionsGet(e, hard.ID)
	if s.Status != kessai.SubscriptionOnHold || s.Hold != "payment_failed" || s.CancelAt.IsZero() || !s.NextAttempt.IsZero() {
		t.Fatalf("hard decline %+v", s)
	}
	grace := s.CancelAt.In(escott.JST)
	b = e.asAdmin()
	page = b.page(subscriptionsPath(hard.ID))
	wantContains(t, page, `<span class="badge orange">一時停止中</span>`, `id="subscription-hold">支払失敗</span>`,
		"継続課金の支払いに失敗したため一時停止中です。"+grace.Format("2006-01-02 15:04")+" までに支払いが成功しない場合は解約されます。",
		`<dd id="subscription-cancel-at">`+grace.Format("2006-01-02 15:04:05")+`</dd>`,
		`id="subscription-card-required"`, `<dd id="subscription-next">—</dd>`,
		escott.DescribeCodes([]string{"G12"}, "ja"), `id="subscription-resume"`)
	row := subscriptionsRow(t, b.page("/admin/subscriptions"), hard.ID)
	wantContains(t, row, `<span class="subscriptions-hold">支払失敗</span>`, "<td>—</td>")
	// English codes.
	wantContains(t, b.page(subscriptionsPath(hard.ID)+"?lang=en"), escott.DescribeCodes([]string{"G12"}, "en"), "payment failed")
}

// TestSubscriptionUnconfirmed: a renewal charge whose answer was lost
// leaves the subscription waiting; the page says so, links to the
// renewal order's payment dialog to resolve it, and offers no pause or
// resume (the engine refuses them too).
func TestSubscriptionUnconfirmed(t *testing.T) {
	e := newEnv(t)
	sub := subscriptionsCreate(e, "c1", renewal.CreateInput{})
	e.Sim.AddFault(sim.Fault{Op: escott.OpGathering, Kind: sim.FaultReset, After: true, Times: 1})
	subscriptionsRenew(e, sub.ID)
	s, rs := subscriptionsGet(e, sub.ID)
	if !s.Unconfirmed || len(rs) != 1 || rs[0].Status != kessai.RenewalUnknown {
		t.Fatalf("after the lost answer %+v %+v", s, rs)
	}
	b := e.asAdmin()
	page := b.page(subscriptionsPath(sub.ID))
	wantContains(t, page, `id="subscription-unconfirmed"`, "前回の継続課金の結果が不明です。",
		`href="/admin/orders/`+rs[0].OrderID+`/payment" id="subscription-resolve-link"`,
		`<span class="badge orange">結果不明</span>`, `id="subscription-cancel"`, `id="subscription-cancel-at-period-end"`)
	wantNotContains(t, page, `id="subscription-pause"`, `id="subscription-resume"`)
	// The dialog the link opens is the order's.
	wantContains(t, b.page("/admin/orders/"+rs[0].OrderID+"/payment"), `id="payment-dialog"`)

	r := b.post(subscriptionsPath(sub.ID), subscriptionsPath(sub.ID)+"/pause", nil)
	if r.Status != http.StatusConflict {
		t.Fatalf("pause while unconfirmed: HTTP %d", r.Status)
	}
	wantContains(t, r.Body, "決済の照合が終わるまで一時停止・再開はできません。")
	if s, _ := subscriptionsGet(e, sub.ID); s.Status != kessai.SubscriptionActive {
		t.Fatalf("paused while unconfirmed: %+v", s)
	}
}

func TestSubscriptionsReadOnly(t *testing.T) {
	e := newEnv(t)
	sub := subscriptionsCreate(e, "c1", renewal.CreateInput{})
	b := e.asReader()
	page := b.page(subscriptionsPath(sub.ID))
	wantContains(t, page, `id="subscription-readonly"`, "操作は管理者のみが行えます。")
	wantNotContains(t, page, "/admin/subscriptions/"+sub.ID+"/", `id="subscription-pause"`, `id="subscription-cancel"`)
	for _, a := range []string{"pause", "resume", "cancel", "cancel_at_period_end", "keep"} {
		r := b.post(subscriptionsPath(sub.ID), subscriptionsPath(sub.ID)+"/"+a, nil)
		if r.Status != http.StatusForbidden {
			t.Errorf("%s by a read-only user: HTTP %d", a, r.Status)
		}
	}
	if s, _ := subscriptionsGet(e, sub.ID); s.Status != kessai.SubscriptionActive || s.CancelAtPeriodEnd || !s.UpdatedAt.Equal(sub.UpdatedAt) {
		t.Fatalf("changed by a read-only user: %+v", s)
	}
}

// TestSubscriptionsLight: on the light plan the screen says subscriptions
// are a pro feature, the menu has no link and nothing can be changed.
func TestSubscriptionsLight(t *testing.T) {
	e := newEnv(t)
	sub := subscriptionsCreate(e, "c1", renewal.CreateInput{})
	b := e.asAdmin()
	from := subscriptionsPath(sub.ID)
	csrf := csrfOf(t, b.page(from))
	e.Settings(map[string]any{"plan": "light"})

	list := b.page("/admin/subscriptions")
	wantContains(t, list, `id="subscriptions-light"`, "定期購入は pro 版の機能です。", `id="row-`+sub.ID+`"`)
	wantNotContains(t, list, `aria-current="page">定期購入</a>`)
	wantNotContains(t, b.page("/admin/"), `href="/admin/subscriptions"`)
	page := b.page(from)
	wantContains(t, page, `id="subscriptions-light"`)
	wantNotContains(t, page, `id="subscription-pause"`, `id="subscription-cancel"`, "/admin/subscriptions/"+sub.ID+"/")

	r := b.do(http.MethodPost, from+"/cancel", url.Values{"csrf": {csrf}})
	if r.Status != http.StatusForbidden {
		t.Fatalf("cancel on light: HTTP %d\n%s", r.Status, r.Body)
	}
	// The language switch of the refused form's page is the subscription's.
	wantContains(t, r.Body, `id="form-errors"`, "定期購入は pro 版の機能です。", `href="`+from+`?lang=en"`)
	if s, _ := subscriptionsGet(e, sub.ID); s.Status != kessai.SubscriptionActive {
		t.Fatalf("cancelled on light: %+v", s)
	}
}
