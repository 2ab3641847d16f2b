package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// The console's read models (store.go: ListAttemptLog, ListMembers,
// ListPaymentsOfOrders, PaymentStats, FailureCodeStats and
// OrderFilter.Method). The console pages filter and aggregate in the
// database, never in Go, so these queries must give the same answers on
// every adapter.

func testConsoleReadModels(t *testing.T, s kessai.Store) {
	t.Run("AttemptLog/Filters", func(t *testing.T) { testAttemptLogFilters(t, s) })
	t.Run("AttemptLog/Paging", func(t *testing.T) { testAttemptLogPaging(t, s) })
	t.Run("AttemptLog/CodeMatch", func(t *testing.T) { testAttemptLogCodes(t, s) })
	t.Run("Members/Paging", func(t *testing.T) { testListMembers(t, s) })
	t.Run("PaymentsOfOrders", func(t *testing.T) { testPaymentsOfOrders(t, s) })
	t.Run("PaymentStats", func(t *testing.T) { testPaymentStats(t, s) })
	t.Run("FailureCodeStats", func(t *testing.T) { testFailureCodeStats(t, s) })
	t.Run("OrderFilter/Method", func(t *testing.T) { testOrderMethodFilter(t, s) })
}

// logFixture is a shop's attempts over two payments (and the same rows in
// another shop, which must never show), created a minute apart in order.
type logFixture struct {
	shop     string
	p1, p2   *kessai.Payment
	attempts []*kessai.Attempt // oldest first
}

func newLogFixture(t *testing.T, s kessai.Store) *logFixture {
	t.Helper()
	f := &logFixture{shop: newShop()}
	other := newShop()
	o := createOrder(t, s, f.shop, at(0))
	f.p1 = createPayment(t, s, o, at(0), "000000000701")
	f.p2 = createPayment(t, s, o, at(time.Second), "000000000702")
	xo := createOrder(t, s, other, at(0))
	xp := createPayment(t, s, xo, at(0), "000000000701")

	type row struct {
		pay    *kessai.Payment
		op     string
		status kessai.AttemptStatus
		codes  []string
	}
	rows := []row{
		{f.p1, "1Auth", kessai.AttemptFailed, []string{"G12"}},
		{f.p1, "1Auth", kessai.AttemptFailed, []string{"K71"}},
		{f.p1, "1Auth", kessai.AttemptUnknown, []string{"NG"}},
		{f.p1, "1Auth", kessai.AttemptSucceeded, nil},
		{f.p1, "1Capture", kessai.AttemptFailed, []string{"K81", "K12"}},
		{f.p1, "1Capture", kessai.AttemptSucceeded, []string{"OK"}},
		{f.p2, "2Add", kessai.AttemptFailed, []string{"K710"}}, // not K71
		{f.p2, "2Add", kessai.AttemptFailed, []string{"W01", "K71"}},
		{f.p2, "2Add", kessai.AttemptSucceeded, nil},
		{f.p2, "2Chg", kessai.AttemptPending, nil},
		{f.p1, "1Delete", kessai.AttemptFailed, []string{"K99"}},
		{f.p1, "1Delete", kessai.AttemptPending, nil},
	}
	for i, r := range rows {
		when := at(time.Duration(i) * time.Minute)
		a := newAttempt(r.pay, when)
		a.Operation, a.Status, a.Codes = escott.OperateID(r.op), r.status, r.codes
		a.Amount = int64(1000 + i)
		if r.status != kessai.AttemptPending {
			a.FinishedAt = when.Add(time.Second)
		}
		must(t, s.CreateAttempt(ctx(t), a))
		f.attempts = append(f.attempts, a)
		// The other shop has the same rows (with its own ids).
		x := newAttempt(xp, when)
		x.Operation, x.Status, x.Codes, x.Amount, x.FinishedAt = a.Operation, a.Status, a.Codes, a.Amount, a.FinishedAt
		if r.status == kessai.AttemptPending {
			x.Status = kessai.AttemptFailed // one pending attempt per payment
		}
		must(t, s.CreateAttempt(ctx(t), x))
	}
	return f
}

// want returns the ids of the fixture's attempts that pass keep, newest
// first (the log's order).
func (f *logFixture) want(keep func(*kessai.Attempt) bool) []string {
	var out []string
	for i := len(f.attempts) - 1; i >= 0; i-- {
		if keep(f.attempts[i]) {
			out = append(out, f.attempts[i].ID)
		}
	}
	return out
}

// logAll pages through ListAttemptLog, n a page, checking each page's
// size and shop.
func logAll(t *testing.T, s kessai.Store, shop string, filter kessai.AttemptFilter, n int) []string {
	t.Helper()
	var all []string
	page := kessai.Page{Limit: n}
	for range 100 {
		got, err := s.ListAttemptLog(ctx(t), shop, filter, page)
		must(t, err)
		if len(got) > n {
			t.Fatalf("page of %d attempts, limit %d", len(got), n)
		}
		for _, a := range got {
			if a.ShopID != shop {
				t.Fatalf("attempt %s of shop %s listed for %s", a.ID, a.ShopID, shop)
			}
		}
		all = append(all, ids(got, attemptID)...)
		if len(got) < n {
			return all
		}
		page.After = got[len(got)-1].ID
	}
	t.Fatal("pagination does not end")
	return nil
}

func testAttemptLogFilters(t *testing.T, s kessai.Store) {
	f := newLogFixture(t, s)
	in := func(a *kessai.Attempt, from, to time.Duration) bool {
		return !a.CreatedAt.Before(us(at(from))) && a.CreatedAt.Before(us(at(to)))
	}
	cases := []struct {
		name   string
		filter kessai.AttemptFilter
		keep   func(*kessai.Attempt) bool
	}{
		{"none", kessai.AttemptFilter{}, func(*kessai.Attempt) bool { return true }},
		{"status failed", kessai.AttemptFilter{Status: kessai.AttemptFailed},
			func(a *kessai.Attempt) bool { return a.Status == kessai.AttemptFailed }},
		{"status unknown", kessai.AttemptFilter{Status: kessai.AttemptUnknown},
			func(a *kessai.Attempt) bool { return a.Status == kessai.AttemptUnknown }},
		{"status pending", kessai.AttemptFilter{Status: kessai.AttemptPending},
			func(a *kessai.Attempt) bool { return a.Status == kessai.AttemptPending }},
		{"code", kessai.AttemptFilter{Code: "K71"},
			func(a *kessai.Attempt) bool { return slices.Contains(a.Codes, "K71") }},
		{"code second in the list", kessai.AttemptFilter{Code: "K12"},
			func(a *kessai.Attempt) bool { return slices.Contains(a.Codes, "K12") }},
		{"pseudo code NG", kessai.AttemptFilter{Code: "NG"},
			func(a *kessai.Attempt) bool { return slices.Contains(a.Codes, "NG") }},
		{"transaction code", kessai.AttemptFilter{MerchantFree1: f.p2.TransactionCode},
			func(a *kessai.Attempt) bool { return a.MerchantFree1 == f.p2.TransactionCode }},
		{"unknown transaction code", kessai.AttemptFilter{MerchantFree1: "000000000799"},
			func(*kessai.Attempt) bool { return false }},
		{"payment", kessai.AttemptFilter{PaymentID: f.p1.ID},
			func(a *kessai.Attempt) bool { return a.PaymentID == f.p1.ID }},
		{"operation", kessai.AttemptFilter{Operation: escott.OpCapture},
			func(a *kessai.Attempt) bool { return a.Operation == escott.OpCapture }},
		{"created from (inclusive)", kessai.AttemptFilter{CreatedFrom: at(8 * time.Minute)},
			func(a *kessai.Attempt) bool { return in(a, 8*time.Minute, time.Hour) }},
		{"created to (exclusive)", kessai.AttemptFilter{CreatedTo: at(3 * time.Minute)},
			func(a *kessai.Attempt) bool { return in(a, -time.Hour, 3*time.Minute) }},
		{"created range in UTC", kessai.AttemptFilter{CreatedFrom: at(2 * time.Minute).UTC(), CreatedTo: at(6 * time.Minute).UTC()},
			func(a *kessai.Attempt) bool { return in(a, 2*time.Minute, 6*time.Minute) }},
		{"status and code", kessai.AttemptFilter{Status: kessai.AttemptFailed, Code: "K71", Operation: escott.OpCvsAdd},
			func(a *kessai.Attempt) bool {
				return a.Status == kessai.AttemptFailed && slices.Contains(a.Codes, "K71") && a.Operation == escott.OpCvsAdd
			}},
		{"every filter", kessai.AttemptFilter{Status: kessai.AttemptFailed, Code: "K99", MerchantFree1: f.p1.TransactionCode,
			PaymentID: f.p1.ID, Operation: escott.OpDelete, CreatedFrom: at(10 * time.Minute), CreatedTo: at(11 * time.Minute)},
			func(a *kessai.Attempt) bool { return a == f.attempts[10] }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := f.want(c.keep)
			for _, n := range []int{2, 100} {
				got := logAll(t, s, f.shop, c.filter, n)
				if len(want) == 0 && len(got) == 0 {
					continue
				}
				same(t, fmt.Sprintf("ids (pages of %d)", n), got, want)
			}
		})
	}
	if n := len(f.want(func(a *kessai.Attempt) bool { return slices.Contains(a.Codes, "K71") })); n != 2 {
		t.Fatalf("fixture: %d attempts with K71, want 2", n)
	}
	// Rows come back whole.
	got, err := s.ListAttemptLog(ctx(t), f.shop, kessai.AttemptFilter{Code: "K12"}, kessai.Page{Limit: 10})
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("K12: %d attempts", len(got))
	}
	same(t, "listed attempt", got[0], *f.attempts[4])
}

func testAttemptLogPaging(t *testing.T, s kessai.Store) {
	f := newLogFixture(t, s)
	all := f.want(func(*kessai.Attempt) bool { return true })
	first, err := s.ListAttemptLog(ctx(t), f.shop, kessai.AttemptFilter{}, kessai.Page{Limit: 5})
	must(t, err)
	same(t, "first page, newest first", ids(first, attemptID), all[:5])
	second, err := s.ListAttemptLog(ctx(t), f.shop, kessai.AttemptFilter{}, kessai.Page{Limit: 5, After: first[4].ID})
	must(t, err)
	same(t, "second page", ids(second, attemptID), all[5:10])
	third, err := s.ListAttemptLog(ctx(t), f.shop, kessai.AttemptFilter{}, kessai.Page{Limit: 5, After: second[4].ID})
	must(t, err)
	same(t, "last page", ids(third, attemptID), all[10:])
	for _, n := range []int{1, 3, 12, 13} {
		same(t, fmt.Sprintf("all pages of %d", n), logAll(t, s, f.shop, kessai.AttemptFilter{}, n), all)
	}
	// The cursor works with a filter too: failed attempts, two a page.
	failed := f.want(func(a *kessai.Attempt) bool { return a.Status == kessai.AttemptFailed })
	same(t, "failed, pages of 2", logAll(t, s, f.shop, kessai.AttemptFilter{Status: kessai.AttemptFailed}, 2), failed)
	none, err := s.ListAttemptLog(ctx(t), newShop(), kessai.AttemptFilter{}, kessai.Page{Limit: 10})
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("empty shop lists %d attempts", len(none))
	}
}

// testAttemptLogCodes: a code matches whole codes only, exactly as the
// gateway spells them (case-sensitive on every database), and a code that
// is not a short alphanumeric is refused rather than used as a pattern.
func testAttemptLogCodes(t *testing.T, s kessai.Store) {
	f := newLogFixture(t, s)
	for _, code := range []string{"K7", "71", "K710X", "k71", "ng", "OK0"} {
		got, err := s.ListAttemptLog(ctx(t), f.shop, kessai.AttemptFilter{Code: code}, kessai.Page{Limit: 100})
		must(t, err)
		if len(got) != 0 {
			t.Errorf("code %q matches %v", code, ids(got, attemptID))
		}
	}
	got, err := s.ListAttemptLog(ctx(t), f.shop, kessai.AttemptFilter{Code: "K710"}, kessai.Page{Limit: 100})
	must(t, err)
	same(t, "K710", ids(got, attemptID), []string{f.attempts[6].ID})

	for _, code := range []string{"K%", "%", "K7_", "_71", `"K71"`, "K71|K12", "K 71", "K71\x00", "Ｋ71",
		strings.Repeat("K", 17)} {
		_, err := s.ListAttemptLog(ctx(t), f.shop, kessai.AttemptFilter{Code: code}, kessai.Page{Limit: 100})
		if err == nil {
			t.Errorf("code %q accepted", code)
		}
	}
	// The longest accepted code.
	got, err = s.ListAttemptLog(ctx(t), f.shop, kessai.AttemptFilter{Code: strings.Repeat("K", 16)}, kessai.Page{Limit: 100})
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("16 K's match %d attempts", len(got))
	}
}

func testListMembers(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	// Byte order, whatever the database's collation: upper case before
	// lower case, digits before letters.
	customers := []string{"bob", "Zed", "alice", "cus_10", "cus_2", "cus_1", "9", "Alice", "carol", "dave", "erin"}
	want := slices.Clone(customers)
	slices.Sort(want)
	members := map[string]kessai.Member{}
	for i, c := range customers {
		m := &kessai.Member{ShopID: shop, CustomerID: c, KaiinID: fmt.Sprintf("K%04d", i), KaiinPass: fmt.Sprintf("kpass-%04d", i),
			CreatedAt: at(time.Duration(i) * time.Hour), UpdatedAt: at(time.Duration(i)*time.Hour + time.Minute)}
		must(t, s.PutMember(ctx(t), m))
		members[c] = *m
		must(t, s.PutMember(ctx(t), &kessai.Member{ShopID: other, CustomerID: c + "_x", KaiinID: "X", KaiinPass: "x",
			CreatedAt: at(0), UpdatedAt: at(0)}))
	}
	for _, n := range []int{1, 4, 11, 12} {
		got := pageAll(t, n, func(p kessai.Page) ([]kessai.Member, error) { return s.ListMembers(ctx(t), shop, p) },
			func(m kessai.Member) string { return m.CustomerID })
		same(t, fmt.Sprintf("members, pages of %d", n), got, want)
	}
	first, err := s.ListMembers(ctx(t), shop, kessai.Page{Limit: 3})
	must(t, err)
	for _, m := range first {
		same(t, "member "+m.CustomerID, m, members[m.CustomerID])
	}
	// The cursor is a customer id, which need not exist any more.
	got, err := s.ListMembers(ctx(t), shop, kessai.Page{Limit: 2, After: "b"})
	must(t, err)
	same(t, "after \"b\"", ids(got, func(m kessai.Member) string { return m.CustomerID }), []string{"bob", "carol"})
	got, err = s.ListMembers(ctx(t), shop, kessai.Page{Limit: 5, After: "erin"})
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("after the last member: %d", len(got))
	}
	must(t, s.DeleteMember(ctx(t), shop, "carol"))
	got, err = s.ListMembers(ctx(t), shop, kessai.Page{Limit: 2, After: "bob"})
	must(t, err)
	same(t, "after a deletion", ids(got, func(m kessai.Member) string { return m.CustomerID }), []string{"cus_1", "cus_10"})
	none, err := s.ListMembers(ctx(t), newShop(), kessai.Page{Limit: 10})
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("empty shop lists %d members", len(none))
	}
}

func testPaymentsOfOrders(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	var orders []*kessai.Order
	byOrder := map[string][]string{}
	for i := range 4 {
		o := createOrder(t, s, shop, at(time.Duration(i)*time.Hour))
		orders = append(orders, o)
		for j := range i { // order i has i payments (order 0 none)
			p := createPayment(t, s, o, at(time.Duration(i)*time.Hour+time.Duration(j)*time.Minute), fmt.Sprintf("0000000008%d%d", i, j))
			byOrder[o.ID] = append(byOrder[o.ID], p.ID)
		}
	}
	xo := createOrder(t, s, other, at(0))
	createPayment(t, s, xo, at(0), "000000000899")

	got, err := s.ListPaymentsOfOrders(ctx(t), shop, []string{orders[3].ID, orders[1].ID, orders[0].ID, "ord_missing", xo.ID})
	must(t, err)
	want := slices.Concat(byOrder[orders[1].ID], byOrder[orders[3].ID]) // oldest first
	same(t, "payments of orders 3, 1, 0", ids(got, paymentID), want)
	for _, p := range got {
		if p.ShopID != shop {
			t.Fatalf("payment of shop %s listed", p.ShopID)
		}
	}
	full, err := s.GetPayment(ctx(t), shop, byOrder[orders[2].ID][1])
	must(t, err)
	got, err = s.ListPaymentsOfOrders(ctx(t), shop, []string{orders[2].ID})
	must(t, err)
	if len(got) != 2 {
		t.Fatalf("order 2: %d payments", len(got))
	}
	same(t, "listed payment", got[1], *full)

	got, err = s.ListPaymentsOfOrders(ctx(t), shop, nil)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("no orders: %d payments", len(got))
	}
	many := make([]string, 200)
	for i := range many {
		many[i] = fmt.Sprintf("ord_%d", i)
	}
	many[199] = orders[1].ID
	got, err = s.ListPaymentsOfOrders(ctx(t), shop, many)
	must(t, err)
	same(t, "200 orders (the most allowed)", ids(got, paymentID), byOrder[orders[1].ID])
	if _, err := s.ListPaymentsOfOrders(ctx(t), shop, append(many, "ord_x")); err == nil {
		t.Fatal("201 orders accepted")
	}
}

// statPayment creates a payment of its own order (an order has one
// active payment) created at when.
func statPayment(t *testing.T, s kessai.Store, shop string, when time.Time, m kessai.Method, st kessai.PaymentState, amount int64, codes ...string) {
	t.Helper()
	o := createOrder(t, s, shop, when)
	p := newPayment(o, when, "000000000900")
	p.Method, p.State, p.Amount, p.FailureCodes = m, st, amount, codes
	must(t, s.CreatePayment(ctx(t), p))
}

func testPaymentStats(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	jstDay := func(d int) time.Time { return time.Date(2025, 4, d, 0, 0, 0, 0, kessai.JST) }
	card, cvs := kessai.MethodCard, kessai.MethodCollection
	// Around the JST midnight between April 1 and 2 (15:00 UTC).
	statPayment(t, s, shop, jstDay(1).Add(-time.Microsecond), card, kessai.PaymentCaptured, 9999) // March 31: before the range
	statPayment(t, s, shop, jstDay(1), card, kessai.PaymentCaptured, 1000)
	statPayment(t, s, shop, jstDay(1).Add(9*time.Hour), card, kessai.PaymentCaptured, 2000) // 00:00 UTC
	statPayment(t, s, shop, jstDay(2).Add(-time.Microsecond), card, kessai.PaymentCaptured, 300)
	statPayment(t, s, shop, jstDay(2).Add(-time.Second), card, kessai.PaymentAuthorized, 40)
	statPayment(t, s, shop, jstDay(2), card, kessai.PaymentCaptured, 5)
	statPayment(t, s, shop, jstDay(2).Add(time.Microsecond), cvs, kessai.PaymentPending, 600)
	statPayment(t, s, shop, jstDay(2).Add(23*time.Hour), cvs, kessai.PaymentPending, 70)
	statPayment(t, s, shop, jstDay(2).Add(12*time.Hour), card, kessai.PaymentFailed, 8000, "G12")
	statPayment(t, s, shop, jstDay(4).Add(time.Hour), cvs, kessai.PaymentPaid, 1)
	statPayment(t, s, shop, jstDay(5), card, kessai.PaymentCaptured, 7777) // at the end of the range: excluded
	statPayment(t, s, other, jstDay(1).Add(time.Hour), card, kessai.PaymentCaptured, 1234567)

	got, err := s.PaymentStats(ctx(t), shop, jstDay(1), jstDay(5), kessai.JST)
	must(t, err)
	want := []kessai.PaymentStat{
		{Day: jstDay(1), Method: card, State: kessai.PaymentAuthorized, Count: 1, Amount: 40},
		{Day: jstDay(1), Method: card, State: kessai.PaymentCaptured, Count: 3, Amount: 3300},
		{Day: jstDay(2), Method: card, State: kessai.PaymentCaptured, Count: 1, Amount: 5},
		{Day: jstDay(2), Method: card, State: kessai.PaymentFailed, Count: 1, Amount: 8000},
		{Day: jstDay(2), Method: cvs, State: kessai.PaymentPending, Count: 2, Amount: 670},
		{Day: jstDay(4), Method: cvs, State: kessai.PaymentPaid, Count: 1, Amount: 1},
	}
	sameStats(t, "JST days", got, want, kessai.JST)

	// The same payments by UTC day: the midnight moves by nine hours.
	utcDay := func(d int) time.Time { return time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC) }
	got, err = s.PaymentStats(ctx(t), shop, jstDay(1), jstDay(5), time.UTC)
	must(t, err)
	want = []kessai.PaymentStat{
		{Day: utcDay(31), Method: card, State: kessai.PaymentCaptured, Count: 1, Amount: 1000},
		{Day: utcDay(32), Method: card, State: kessai.PaymentAuthorized, Count: 1, Amount: 40},
		{Day: utcDay(32), Method: card, State: kessai.PaymentCaptured, Count: 3, Amount: 2305},
		{Day: utcDay(32), Method: cvs, State: kessai.PaymentPending, Count: 1, Amount: 600},
		{Day: utcDay(33), Method: card, State: kessai.PaymentFailed, Count: 1, Amount: 8000},
		{Day: utcDay(33), Method: cvs, State: kessai.PaymentPending, Count: 1, Amount: 70},
		{Day: utcDay(34), Method: cvs, State: kessai.PaymentPaid, Count: 1, Amount: 1},
	}
	sameStats(t, "UTC days", got, want, time.UTC)

	// One day exactly, and an empty range.
	got, err = s.PaymentStats(ctx(t), shop, jstDay(4), jstDay(5), kessai.JST)
	must(t, err)
	sameStats(t, "April 4", got, []kessai.PaymentStat{{Day: jstDay(4), Method: cvs, State: kessai.PaymentPaid, Count: 1, Amount: 1}}, kessai.JST)
	got, err = s.PaymentStats(ctx(t), shop, jstDay(3), jstDay(4), kessai.JST)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("April 3: %+v", got)
	}
}

// sameStats compares stats; days must be the same instants, in loc.
func sameStats(t *testing.T, what string, got, want []kessai.PaymentStat, loc *time.Location) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d cells, want %d:\n got  %+v\n want %+v", what, len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Day.Equal(w.Day) || g.Day.Location().String() != loc.String() || g.Method != w.Method || g.State != w.State ||
			g.Count != w.Count || g.Amount != w.Amount {
			t.Fatalf("%s: cell %d:\n got  %+v (%s)\n want %+v", what, i, g, g.Day.Location(), w)
		}
	}
}

func testFailureCodeStats(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	card, failed := kessai.MethodCard, kessai.PaymentFailed
	for _, codes := range [][]string{{"G12"}, {"G12"}, {"K71", "G12"}, {"K71"}, {"NG"}, nil, {"G55", "G12"}} {
		statPayment(t, s, shop, at(time.Hour), card, failed, 100, codes...)
	}
	statPayment(t, s, shop, at(2*time.Hour), kessai.MethodCollection, failed, 100, "W01")
	// Not counted: other states, outside the range, another shop.
	statPayment(t, s, shop, at(time.Hour), card, kessai.PaymentCaptured, 100, "G12")
	statPayment(t, s, shop, at(-time.Microsecond), card, failed, 100, "K99")
	statPayment(t, s, shop, at(24*time.Hour), card, failed, 100, "K99")
	statPayment(t, s, other, at(time.Hour), card, failed, 100, "K99")

	got, err := s.FailureCodeStats(ctx(t), shop, at(0), at(24*time.Hour))
	must(t, err)
	// Most frequent first, ties by code; a payment without codes counts
	// under "".
	same(t, "code counts", got, []kessai.CodeCount{
		{Code: "G12", Count: 4}, {Code: "K71", Count: 2}, {Code: "", Count: 1}, {Code: "G55", Count: 1},
		{Code: "NG", Count: 1}, {Code: "W01", Count: 1},
	})
	got, err = s.FailureCodeStats(ctx(t), shop, at(90*time.Minute), at(24*time.Hour))
	must(t, err)
	same(t, "from 90 minutes", got, []kessai.CodeCount{{Code: "W01", Count: 1}})
	got, err = s.FailureCodeStats(ctx(t), newShop(), at(0), at(24*time.Hour))
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("empty shop: %+v", got)
	}
}

func testOrderMethodFilter(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	type fixture struct {
		o       *kessai.Order
		methods []kessai.Method
	}
	var all []fixture
	plans := [][]kessai.Method{
		{kessai.MethodCard}, {kessai.MethodCollection}, nil, {kessai.MethodCard, kessai.MethodCollection},
		{kessai.MethodCard, kessai.MethodCard}, {kessai.MethodCollection}, {kessai.MethodCard}, nil,
	}
	for i, methods := range plans {
		o := newOrder(shop, at(time.Duration(i)*time.Hour))
		o.Status = []kessai.OrderStatus{kessai.OrderPending, kessai.OrderCompleted}[i%2]
		must(t, s.CreateOrder(ctx(t), o))
		for j, m := range methods {
			p := newPayment(o, at(time.Duration(i)*time.Hour+time.Duration(j)*time.Minute), "000000000950")
			p.Method = m // failed payments: an order may have several
			must(t, s.CreatePayment(ctx(t), p))
		}
		all = append(all, fixture{o, methods})
		// Another shop's order with a payment of each method.
		x := createOrder(t, s, other, at(time.Duration(i)*time.Hour))
		xp := newPayment(x, at(0), "000000000951")
		xp.Method = []kessai.Method{kessai.MethodCard, kessai.MethodCollection}[i%2]
		must(t, s.CreatePayment(ctx(t), xp))
	}
	want := func(keep func(fixture) bool) []string {
		var out []string
		for i := len(all) - 1; i >= 0; i-- {
			if keep(all[i]) {
				out = append(out, all[i].o.ID)
			}
		}
		return out
	}
	cases := []struct {
		name string
		f    kessai.OrderFilter
		keep func(fixture) bool
	}{
		{"card", kessai.OrderFilter{Method: kessai.MethodCard},
			func(x fixture) bool { return slices.Contains(x.methods, kessai.MethodCard) }},
		{"collection", kessai.OrderFilter{Method: kessai.MethodCollection},
			func(x fixture) bool { return slices.Contains(x.methods, kessai.MethodCollection) }},
		{"card and completed", kessai.OrderFilter{Method: kessai.MethodCard, Status: kessai.OrderCompleted},
			func(x fixture) bool {
				return slices.Contains(x.methods, kessai.MethodCard) && x.o.Status == kessai.OrderCompleted
			}},
		{"collection from hour 2", kessai.OrderFilter{Method: kessai.MethodCollection, CreatedFrom: at(2 * time.Hour)},
			func(x fixture) bool {
				return slices.Contains(x.methods, kessai.MethodCollection) && !x.o.CreatedAt.Before(us(at(2*time.Hour)))
			}},
		{"no method: every order", kessai.OrderFilter{}, func(fixture) bool { return true }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := want(c.keep)
			for _, n := range []int{1, 3, 100} {
				same(t, fmt.Sprintf("ids (pages of %d)", n), listAll(t, s, shop, c.f, n), w)
			}
		})
	}
	// An order with two card payments is listed once.
	if got := listAll(t, s, shop, kessai.OrderFilter{Method: kessai.MethodCard}, 100); len(got) != 4 {
		t.Fatalf("card orders: %d, want 4", len(got))
	}
}
