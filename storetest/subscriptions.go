package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/kessai/kessai"
)

// ---- subscriptions and renewals ----

// The subtests share one store. ListSubscriptionsToWake reads across
// shops, so its subtest works in 2015 (wakeEpoch) while every other
// subscription wakes around base (2025) or never: nothing another
// subtest creates can show up in its queue, whatever the order they run.
func testSubscriptions(t *testing.T, s kessai.Store) {
	t.Run("CreateGet", func(t *testing.T) { testSubscriptionCreateGet(t, s) })
	t.Run("List", func(t *testing.T) { testSubscriptionList(t, s) })
	t.Run("Update", func(t *testing.T) { testSubscriptionUpdate(t, s) })
	t.Run("UpdateRace", func(t *testing.T) { testSubscriptionUpdateRace(t, s) })
	t.Run("ToWake", func(t *testing.T) { testSubscriptionsToWake(t, s) })
	t.Run("CountCustomer", func(t *testing.T) { testCountCustomerSubscriptions(t, s) })
	t.Run("Renewals/CreateGet", func(t *testing.T) { testRenewalCreateGet(t, s) })
	t.Run("Renewals/UpdateList", func(t *testing.T) { testRenewalUpdateList(t, s) })
}

// newSubscription is a monthly subscription with every field set,
// optional times included, so that a round trip checks each column; tests
// clear what they need empty. Values of one type differ from each other
// (booleans as far as two values allow), so that an adapter swapping two
// columns is caught.
func newSubscription(shop, customer string, created time.Time) *kessai.Subscription {
	return &kessai.Subscription{
		ID:                kessai.NewID("sub", created),
		ShopID:            shop,
		CustomerID:        customer,
		Description:       "定期便 緑茶 100g",
		Amount:            3300,
		Currency:          kessai.Currency,
		Virtual:           true,
		Status:            kessai.SubscriptionOnHold,
		IntervalUnit:      "month",
		IntervalCount:     1,
		AnchorDay:         15,
		StartAt:           created.Add(2 * time.Hour),
		TrialEnd:          created.Add(7 * 24 * time.Hour),
		EndAt:             created.Add(365 * 24 * time.Hour),
		MaxPayments:       12,
		First:             created.Add(7*24*time.Hour + time.Microsecond),
		Period:            3,
		Paid:              2,
		Failures:          4,
		Hold:              "payment_failed",
		NextAttempt:       created.Add(40 * 24 * time.Hour),
		CancelAt:          created.Add(60 * 24 * time.Hour),
		CancelAtPeriodEnd: false,
		Unconfirmed:       true,
		WakeAt:            created.Add(41*24*time.Hour + 999*time.Nanosecond),
		InitialOrderID:    kessai.NewID("ord", created),
		Metadata:          map[string]string{"plan": "gold", "note": "ギフト"},
		CreatedAt:         created,
		UpdatedAt:         created.Add(time.Second),
	}
}

// minimalSubscription has every optional field empty and every boolean
// false: the zero times must come back zero (stored as NULL), not as the
// Unix epoch.
func minimalSubscription(shop, customer string, created time.Time) *kessai.Subscription {
	return &kessai.Subscription{
		ID:            kessai.NewID("sub", created),
		ShopID:        shop,
		CustomerID:    customer,
		Description:   "コーヒー豆",
		Amount:        1200,
		Currency:      kessai.Currency,
		Status:        kessai.SubscriptionPending,
		IntervalUnit:  "week",
		IntervalCount: 2,
		StartAt:       created,
		First:         created,
		CreatedAt:     created,
		UpdatedAt:     created,
	}
}

func createSubscription(t *testing.T, s kessai.Store, sub *kessai.Subscription) *kessai.Subscription {
	t.Helper()
	must(t, s.CreateSubscription(ctx(t), sub))
	return sub
}

// usSubscription is sub as the store returns it, computed here rather than
// by the store so that a wrong normalisation in the adapter shows.
func usSubscription(sub kessai.Subscription) kessai.Subscription {
	sub.StartAt, sub.TrialEnd, sub.EndAt, sub.First = us(sub.StartAt), us(sub.TrialEnd), us(sub.EndAt), us(sub.First)
	sub.NextAttempt, sub.CancelAt, sub.WakeAt = us(sub.NextAttempt), us(sub.CancelAt), us(sub.WakeAt)
	sub.CreatedAt, sub.UpdatedAt = us(sub.CreatedAt), us(sub.UpdatedAt)
	return sub
}

func subscriptionID(s kessai.Subscription) string { return s.ID }

func testSubscriptionCreateGet(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	_, err := s.GetSubscription(ctx(t), shop, "sub_missing")
	wantErr(t, err, kessai.ErrNotFound)

	full := newSubscription(shop, "cus_1", at(0))
	minimal := minimalSubscription(shop, "cus_2", at(time.Minute))
	wantFull, wantMinimal := usSubscription(*full), usSubscription(*minimal)
	createSubscription(t, s, full)
	createSubscription(t, s, minimal)
	// Create normalised the times of the values it was given, so they
	// equal what a later read returns.
	same(t, "created full subscription", *full, wantFull)
	same(t, "created minimal subscription", *minimal, wantMinimal)
	// Virtual and Unconfirmed, equal in the full fixture, differ here.
	mixed := newSubscription(shop, "cus_3", at(2*time.Minute))
	mixed.Virtual, mixed.CancelAtPeriodEnd, mixed.Unconfirmed = true, true, false
	wantMixed := usSubscription(*mixed)
	createSubscription(t, s, mixed)

	got, err := s.GetSubscription(ctx(t), shop, full.ID)
	must(t, err)
	same(t, "full subscription", *got, wantFull)
	for name, tm := range map[string]time.Time{"start_at": got.StartAt, "first_billing_at": got.First,
		"trial_end": got.TrialEnd, "wake_at": got.WakeAt, "created_at": got.CreatedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("%s read in %v, want UTC", name, tm.Location())
		}
	}
	got, err = s.GetSubscription(ctx(t), shop, minimal.ID)
	must(t, err)
	same(t, "minimal subscription", *got, wantMinimal)
	if !got.TrialEnd.IsZero() || !got.EndAt.IsZero() || !got.NextAttempt.IsZero() || !got.CancelAt.IsZero() ||
		!got.WakeAt.IsZero() || got.Metadata != nil {
		t.Fatalf("empty optional fields read back set: %+v", got)
	}
	got, err = s.GetSubscription(ctx(t), shop, mixed.ID)
	must(t, err)
	same(t, "mixed subscription", *got, wantMixed)

	// The same id again is a duplicate, whatever else differs, and the
	// stored row is left alone.
	again := minimalSubscription(shop, "cus_9", at(time.Hour))
	again.ID = full.ID
	wantErr(t, s.CreateSubscription(ctx(t), again), kessai.ErrDuplicate)
	got, err = s.GetSubscription(ctx(t), shop, full.ID)
	must(t, err)
	same(t, "subscription after duplicate", *got, wantFull)

	// Shop scoping: another shop does not see the row.
	_, err = s.GetSubscription(ctx(t), other, full.ID)
	wantErr(t, err, kessai.ErrNotFound)

	// Missing identifiers are refused before the database.
	for _, bad := range []func(*kessai.Subscription){
		func(v *kessai.Subscription) { v.ShopID = "" },
		func(v *kessai.Subscription) { v.ID = "" },
		func(v *kessai.Subscription) { v.CustomerID = "" },
	} {
		v := minimalSubscription(shop, "cus_3", at(2*time.Hour))
		bad(v)
		if err := s.CreateSubscription(ctx(t), v); err == nil {
			t.Fatalf("incomplete subscription %+v created", v)
		}
	}
}

func testSubscriptionList(t *testing.T, s kessai.Store) {
	shop, other, empty := newShop(), newShop(), newShop()
	// Six subscriptions a minute apart (ids sort by creation time), over
	// two customers and three statuses; the other shop has the same
	// customers and statuses, and must never show.
	type row struct{ customer, status string }
	rows := []row{
		{"cus_a", kessai.SubscriptionActive},
		{"cus_b", kessai.SubscriptionActive},
		{"cus_a", kessai.SubscriptionOnHold},
		{"cus_a", kessai.SubscriptionActive},
		{"cus_b", kessai.SubscriptionCancelled},
		{"cus_a", kessai.SubscriptionCancelled},
	}
	var subs []*kessai.Subscription // oldest first
	for i, r := range rows {
		when := at(time.Duration(i) * time.Minute)
		sub := newSubscription(shop, r.customer, when)
		sub.Status = r.status
		subs = append(subs, createSubscription(t, s, sub))
		x := newSubscription(other, r.customer, when)
		x.Status = r.status
		createSubscription(t, s, x)
	}
	// newestFirst lists the ids of the fixture rows picked, newest first.
	newestFirst := func(pick func(row) bool) []string {
		out := []string{} // as ids returns an empty list
		for i := len(rows) - 1; i >= 0; i-- {
			if pick(rows[i]) {
				out = append(out, subs[i].ID)
			}
		}
		return out
	}
	all := func(row) bool { return true }

	list, err := s.ListSubscriptions(ctx(t), shop, kessai.SubscriptionFilter{}, kessai.Page{})
	must(t, err)
	same(t, "all subscriptions, newest first", ids(list, subscriptionID), newestFirst(all))
	// Listed values are whole rows, as Get returns them.
	same(t, "listed subscription", list[len(list)-1], *subs[0])

	for _, tc := range []struct {
		name string
		f    kessai.SubscriptionFilter
		pick func(row) bool
	}{
		{"status active", kessai.SubscriptionFilter{Status: kessai.SubscriptionActive},
			func(r row) bool { return r.status == kessai.SubscriptionActive }},
		{"status cancelled", kessai.SubscriptionFilter{Status: kessai.SubscriptionCancelled},
			func(r row) bool { return r.status == kessai.SubscriptionCancelled }},
		{"customer cus_b", kessai.SubscriptionFilter{CustomerID: "cus_b"},
			func(r row) bool { return r.customer == "cus_b" }},
		{"customer cus_a, active", kessai.SubscriptionFilter{CustomerID: "cus_a", Status: kessai.SubscriptionActive},
			func(r row) bool { return r.customer == "cus_a" && r.status == kessai.SubscriptionActive }},
		{"no match", kessai.SubscriptionFilter{Status: kessai.SubscriptionExpired},
			func(row) bool { return false }},
	} {
		list, err := s.ListSubscriptions(ctx(t), shop, tc.f, kessai.Page{})
		must(t, err)
		same(t, tc.name, ids(list, subscriptionID), newestFirst(tc.pick))
	}

	// The page after a cursor starts strictly after it (checked first: a
	// cursor that included itself would make pageAll loop for ever).
	list, err = s.ListSubscriptions(ctx(t), shop, kessai.SubscriptionFilter{}, kessai.Page{Limit: 2, After: subs[3].ID})
	must(t, err)
	same(t, "page after the fourth", ids(list, subscriptionID), []string{subs[2].ID, subs[1].ID})
	// Cursor paging walks the same order, page boundaries included (a
	// limit that divides the rows exactly ends on an empty page), and
	// keeps the filter on every page.
	for _, limit := range []int{1, 2, 4} {
		got := pageAll(t, limit, func(p kessai.Page) ([]kessai.Subscription, error) {
			return s.ListSubscriptions(ctx(t), shop, kessai.SubscriptionFilter{}, p)
		}, subscriptionID)
		same(t, fmt.Sprintf("all subscriptions, %d a page", limit), got, newestFirst(all))
	}
	got := pageAll(t, 2, func(p kessai.Page) ([]kessai.Subscription, error) {
		return s.ListSubscriptions(ctx(t), shop, kessai.SubscriptionFilter{CustomerID: "cus_a"}, p)
	}, subscriptionID)
	same(t, "cus_a's subscriptions, 2 a page", got, newestFirst(func(r row) bool { return r.customer == "cus_a" }))

	list, err = s.ListSubscriptions(ctx(t), empty, kessai.SubscriptionFilter{}, kessai.Page{})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("shop without subscriptions lists %d", len(list))
	}
}

func testSubscriptionUpdate(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	sub := createSubscription(t, s, newSubscription(shop, "cus_1", at(0)))
	minimal := createSubscription(t, s, minimalSubscription(shop, "cus_2", at(time.Second)))
	created := *sub

	// Every mutable field changes: optional times set become zero (NULL)
	// and zero ones become set, metadata is replaced. Over the two updates
	// each boolean changes and each pair of them differs once, and the
	// integers written differ from each other, so swapped columns show.
	upd := *sub
	upd.Description, upd.Amount, upd.Virtual = "定期便 ほうじ茶", 4400, false
	upd.Status, upd.Hold = kessai.SubscriptionOnHold, "paused"
	upd.IntervalUnit, upd.IntervalCount, upd.AnchorDay = "week", 3, 0
	upd.TrialEnd, upd.EndAt, upd.MaxPayments = time.Time{}, time.Time{}, 24
	upd.First, upd.Period, upd.Paid, upd.Failures = at(48*time.Hour), 5, 6, 2
	upd.NextAttempt, upd.CancelAt, upd.WakeAt = time.Time{}, time.Time{}, time.Time{}
	upd.CancelAtPeriodEnd, upd.Unconfirmed = true, false
	upd.Metadata = map[string]string{"plan": "silver"}
	upd.UpdatedAt = at(time.Hour)
	want := usSubscription(upd)
	must(t, s.UpdateSubscription(ctx(t), &upd, created.UpdatedAt))
	same(t, "updated value, normalised", upd, want)
	got, err := s.GetSubscription(ctx(t), shop, sub.ID)
	must(t, err)
	same(t, "updated subscription", *got, want)

	// And back: the fields emptied above are set again.
	upd2 := *got
	upd2.Virtual, upd2.CancelAtPeriodEnd, upd2.Unconfirmed = false, false, true
	upd2.TrialEnd, upd2.EndAt = at(72*time.Hour), at(400*24*time.Hour)
	upd2.NextAttempt, upd2.CancelAt, upd2.WakeAt = at(49*time.Hour), at(80*time.Hour), at(49*time.Hour+time.Microsecond)
	upd2.Metadata = nil
	upd2.UpdatedAt = at(2 * time.Hour)
	want2 := usSubscription(upd2)
	must(t, s.UpdateSubscription(ctx(t), &upd2, got.UpdatedAt))
	got, err = s.GetSubscription(ctx(t), shop, sub.ID)
	must(t, err)
	same(t, "subscription updated again", *got, want2)

	// A writer holding the first or second version lost the race: its
	// write is refused and the row is left as the winner wrote it.
	for _, stale := range []time.Time{created.UpdatedAt, want.UpdatedAt, at(3 * time.Hour)} {
		lost := *got
		lost.Status, lost.Amount, lost.WakeAt = kessai.SubscriptionCancelled, 1, time.Time{}
		lost.UpdatedAt = at(4 * time.Hour)
		wantErr(t, s.UpdateSubscription(ctx(t), &lost, stale), kessai.ErrConflict)
		got, err = s.GetSubscription(ctx(t), shop, sub.ID)
		must(t, err)
		same(t, "subscription after a stale update", *got, want2)
	}

	// The other row was not touched by any of this.
	gotMin, err := s.GetSubscription(ctx(t), shop, minimal.ID)
	must(t, err)
	same(t, "untouched subscription", *gotMin, *minimal)

	// A missing row, or another shop's, is not found, not a conflict.
	missing := *got
	missing.ID = "sub_missing"
	wantErr(t, s.UpdateSubscription(ctx(t), &missing, got.UpdatedAt), kessai.ErrNotFound)
	elsewhere := *got
	elsewhere.ShopID = other
	wantErr(t, s.UpdateSubscription(ctx(t), &elsewhere, got.UpdatedAt), kessai.ErrNotFound)
	_, err = s.GetSubscription(ctx(t), other, sub.ID)
	wantErr(t, err, kessai.ErrNotFound)
}

// testSubscriptionUpdateRace: writers that read the same version update
// it at once; the compare-and-set lets exactly one through.
func testSubscriptionUpdateRace(t *testing.T, s kessai.Store) {
	shop := newShop()
	sub := createSubscription(t, s, newSubscription(shop, "cus_1", at(0)))
	// Writer 0 keeps the version's own UpdatedAt (a clock that did not
	// move): the store moves it on by a microsecond, or the writers queued
	// behind it would still match the row and win as well.
	stamp := func(i int) time.Time {
		if i == 0 {
			return sub.UpdatedAt
		}
		return sub.UpdatedAt.Add(time.Duration(i) * time.Second)
	}
	errs := race(8, func(i int) error {
		v := *sub
		v.Period = 10 + i
		v.UpdatedAt = stamp(i)
		return s.UpdateSubscription(ctx(t), &v, sub.UpdatedAt)
	})
	oneWinner(t, errs, kessai.ErrConflict, "updates of one version")
	got, err := s.GetSubscription(ctx(t), shop, sub.ID)
	must(t, err)
	for i, err := range errs {
		want := us(stamp(i))
		if i == 0 {
			want = us(sub.UpdatedAt).Add(time.Microsecond)
		}
		if err == nil && (got.Period != 10+i || !got.UpdatedAt.Equal(want)) {
			t.Fatalf("winner %d's write not stored: %+v", i, got)
		}
	}
}

// wakeEpoch is the clock of the wake queue test, years before base: see
// testSubscriptions.
var wakeEpoch = time.Date(2015, 6, 1, 9, 0, 0, 500_000_789, kessai.JST)

func testSubscriptionsToWake(t *testing.T, s kessai.Store) {
	shopA, shopB := newShop(), newShop()
	now := wakeEpoch
	wake := func(shop string, created time.Time, wakeAt time.Time) *kessai.Subscription {
		sub := newSubscription(shop, "cus_1", created)
		sub.WakeAt = wakeAt
		return createSubscription(t, s, sub)
	}
	// Created in an order unlike the wake order, in two shops.
	atNow := wake(shopA, now.Add(-10*time.Hour), now) // due exactly now: listed
	late := wake(shopB, now.Add(-9*time.Hour), now.Add(-time.Hour))
	early := wake(shopA, now.Add(-8*time.Hour), now.Add(-3*time.Hour))
	mid := wake(shopB, now.Add(-7*time.Hour), now.Add(-2*time.Hour))
	soon := wake(shopA, now.Add(-6*time.Hour), now.Add(time.Microsecond)) // a microsecond after now: not yet
	never := wake(shopB, now.Add(-5*time.Hour), time.Time{})              // NULL: never listed

	list, err := s.ListSubscriptionsToWake(ctx(t), now, 10)
	must(t, err)
	same(t, "subscriptions to wake, soonest first", ids(list, subscriptionID),
		[]string{early.ID, mid.ID, late.ID, atNow.ID})
	// Whole rows, with their shop (the engine works across shops).
	same(t, "listed subscription to wake", list[1], *mid)

	list, err = s.ListSubscriptionsToWake(ctx(t), now, 2)
	must(t, err)
	same(t, "two soonest", ids(list, subscriptionID), []string{early.ID, mid.ID})

	list, err = s.ListSubscriptionsToWake(ctx(t), now.Add(-4*time.Hour), 10)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("%d subscriptions to wake before any is due", len(list))
	}

	// Clearing wake_at takes a subscription out of the queue; setting it
	// puts one in.
	cleared := *early
	cleared.WakeAt, cleared.UpdatedAt = time.Time{}, early.UpdatedAt.Add(time.Second)
	must(t, s.UpdateSubscription(ctx(t), &cleared, early.UpdatedAt))
	woken := *never
	woken.WakeAt, woken.UpdatedAt = now.Add(-4*time.Hour), never.UpdatedAt.Add(time.Second)
	must(t, s.UpdateSubscription(ctx(t), &woken, never.UpdatedAt))
	list, err = s.ListSubscriptionsToWake(ctx(t), now.Add(time.Microsecond), 10)
	must(t, err)
	same(t, "subscriptions to wake after updates", ids(list, subscriptionID),
		[]string{never.ID, mid.ID, late.ID, atNow.ID, soon.ID})
}

func testCountCustomerSubscriptions(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	for i, r := range []struct{ shop, customer, status string }{
		{shop, "cus_a", kessai.SubscriptionActive},
		{shop, "cus_a", kessai.SubscriptionActive},
		{shop, "cus_a", kessai.SubscriptionOnHold},
		{shop, "cus_a", kessai.SubscriptionCancelled},
		{shop, "cus_a", kessai.SubscriptionPending},
		{shop, "cus_b", kessai.SubscriptionActive},
		{other, "cus_a", kessai.SubscriptionActive},
		{other, "cus_a", kessai.SubscriptionOnHold},
	} {
		sub := newSubscription(r.shop, r.customer, at(time.Duration(i)*time.Minute))
		sub.Status = r.status
		createSubscription(t, s, sub)
	}
	for _, tc := range []struct {
		shop, customer string
		statuses       []string
		want           int
	}{
		{shop, "cus_a", []string{kessai.SubscriptionActive, kessai.SubscriptionOnHold}, 3},
		{shop, "cus_a", []string{kessai.SubscriptionActive}, 2},
		{shop, "cus_a", []string{kessai.SubscriptionCancelled, kessai.SubscriptionPending, kessai.SubscriptionExpired}, 2},
		{shop, "cus_a", []string{kessai.SubscriptionExpired}, 0},
		{shop, "cus_a", nil, 0},
		{shop, "cus_b", []string{kessai.SubscriptionActive, kessai.SubscriptionOnHold}, 1},
		{shop, "cus_none", []string{kessai.SubscriptionActive}, 0},
		{other, "cus_a", []string{kessai.SubscriptionActive, kessai.SubscriptionOnHold}, 2},
		{other, "cus_b", []string{kessai.SubscriptionActive}, 0},
	} {
		n, err := s.CountCustomerSubscriptions(ctx(t), tc.shop, tc.customer, tc.statuses)
		must(t, err)
		if n != tc.want {
			t.Fatalf("%s %s in %v: %d subscriptions, want %d", tc.shop, tc.customer, tc.statuses, n, tc.want)
		}
	}
}

// ---- renewals ----

func newRenewal(sub *kessai.Subscription, period int, o *kessai.Order, due time.Time) *kessai.Renewal {
	return &kessai.Renewal{ShopID: sub.ShopID, SubscriptionID: sub.ID, Period: period, OrderID: o.ID,
		Status: kessai.RenewalPending, DueAt: due, CreatedAt: due.Add(time.Second), UpdatedAt: due.Add(2 * time.Second)}
}

// usRenewal is r as the store returns it.
func usRenewal(r kessai.Renewal) kessai.Renewal {
	r.DueAt, r.CreatedAt, r.UpdatedAt = us(r.DueAt), us(r.CreatedAt), us(r.UpdatedAt)
	return r
}

func renewalPeriod(r kessai.Renewal) string { return fmt.Sprint(r.Period) }

func testRenewalCreateGet(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	sub := createSubscription(t, s, newSubscription(shop, "cus_1", at(0)))
	o1, o2, o3 := createOrder(t, s, shop, at(time.Minute)), createOrder(t, s, shop, at(2*time.Minute)),
		createOrder(t, s, shop, at(3*time.Minute))
	xo := createOrder(t, s, other, at(time.Minute))

	_, err := s.GetRenewal(ctx(t), shop, sub.ID, 1)
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.FindRenewalByOrder(ctx(t), shop, o1.ID)
	wantErr(t, err, kessai.ErrNotFound)

	r1 := newRenewal(sub, 1, o1, at(time.Hour))
	r2 := newRenewal(sub, 2, o2, at(30*24*time.Hour))
	r2.Status, r2.Attempts, r2.Codes = kessai.RenewalFailed, 3, []string{"G12", "K71"}
	want1, want2 := usRenewal(*r1), usRenewal(*r2)
	must(t, s.CreateRenewal(ctx(t), r1))
	must(t, s.CreateRenewal(ctx(t), r2))
	same(t, "created renewal, normalised", *r1, want1)

	got, err := s.GetRenewal(ctx(t), shop, sub.ID, 1)
	must(t, err)
	same(t, "renewal 1", *got, want1)
	got, err = s.GetRenewal(ctx(t), shop, sub.ID, 2)
	must(t, err)
	same(t, "renewal 2", *got, want2)
	got, err = s.FindRenewalByOrder(ctx(t), shop, o2.ID)
	must(t, err)
	same(t, "renewal of order 2", *got, want2)

	// One renewal per period: a second engine creating period 1 (with an
	// order of its own) is told it lost. And one renewal per order.
	wantErr(t, s.CreateRenewal(ctx(t), newRenewal(sub, 1, o3, at(time.Hour))), kessai.ErrDuplicate)
	wantErr(t, s.CreateRenewal(ctx(t), newRenewal(sub, 3, o1, at(60*24*time.Hour))), kessai.ErrDuplicate)
	got, err = s.GetRenewal(ctx(t), shop, sub.ID, 1)
	must(t, err)
	same(t, "renewal 1 after duplicates", *got, want1)
	_, err = s.FindRenewalByOrder(ctx(t), shop, o3.ID)
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.GetRenewal(ctx(t), shop, sub.ID, 3)
	wantErr(t, err, kessai.ErrNotFound)

	// The subscription and the order must exist, in the renewal's shop.
	noSub := newRenewal(sub, 3, o3, at(time.Hour))
	noSub.SubscriptionID = "sub_missing"
	wantErr(t, s.CreateRenewal(ctx(t), noSub), kessai.ErrNotFound)
	noOrder := newRenewal(sub, 3, o3, at(time.Hour))
	noOrder.OrderID = "ord_missing"
	wantErr(t, s.CreateRenewal(ctx(t), noOrder), kessai.ErrNotFound)
	wantErr(t, s.CreateRenewal(ctx(t), newRenewal(sub, 3, xo, at(time.Hour))), kessai.ErrNotFound)
	// Neither left a row behind: the period and the order are still free.
	must(t, s.CreateRenewal(ctx(t), newRenewal(sub, 3, o3, at(60*24*time.Hour))))

	// Another subscription has periods of its own, counted from 1 too.
	sub2 := createSubscription(t, s, newSubscription(shop, "cus_2", at(time.Second)))
	o4 := createOrder(t, s, shop, at(4*time.Minute))
	must(t, s.CreateRenewal(ctx(t), newRenewal(sub2, 1, o4, at(time.Hour))))

	// Another shop sees none of it.
	_, err = s.GetRenewal(ctx(t), other, sub.ID, 1)
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.FindRenewalByOrder(ctx(t), other, o1.ID)
	wantErr(t, err, kessai.ErrNotFound)
	list, err := s.ListRenewals(ctx(t), other, sub.ID)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("other shop lists %d renewals", len(list))
	}

	// Missing identifiers are refused before the database.
	for _, bad := range []func(*kessai.Renewal){
		func(r *kessai.Renewal) { r.ShopID = "" },
		func(r *kessai.Renewal) { r.SubscriptionID = "" },
		func(r *kessai.Renewal) { r.OrderID = "" },
	} {
		r := newRenewal(sub, 9, o3, at(time.Hour))
		bad(r)
		if err := s.CreateRenewal(ctx(t), r); err == nil {
			t.Fatalf("incomplete renewal %+v created", r)
		}
	}
}

func testRenewalUpdateList(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	sub := createSubscription(t, s, newSubscription(shop, "cus_1", at(0)))
	sub2 := createSubscription(t, s, newSubscription(shop, "cus_1", at(time.Second)))
	var renewals []*kessai.Renewal // by period, 1 to 3
	for p := 1; p <= 3; p++ {
		renewals = append(renewals, newRenewal(sub, p, createOrder(t, s, shop, at(time.Duration(p)*time.Minute)),
			at(time.Duration(p)*30*24*time.Hour)))
	}
	// Created out of period order: the list is by period, not by insertion.
	for _, i := range []int{1, 2, 0} {
		must(t, s.CreateRenewal(ctx(t), renewals[i]))
	}
	must(t, s.CreateRenewal(ctx(t), newRenewal(sub2, 1, createOrder(t, s, shop, at(time.Hour)), at(time.Hour))))

	list, err := s.ListRenewals(ctx(t), shop, sub.ID)
	must(t, err)
	same(t, "renewals, newest period first", list, []kessai.Renewal{*renewals[2], *renewals[1], *renewals[0]})
	list, err = s.ListRenewals(ctx(t), shop, "sub_missing")
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("missing subscription lists %d renewals", len(list))
	}

	// Update writes status, attempts, codes and updated_at — and nothing
	// else: the order, due date and creation time stay as created.
	r := renewals[1]
	upd := *r
	upd.Status, upd.Attempts, upd.Codes = kessai.RenewalUnknown, 4, []string{"K81", "NG"}
	upd.UpdatedAt = at(100 * 24 * time.Hour)
	upd.OrderID, upd.DueAt, upd.CreatedAt = renewals[0].OrderID, at(999*time.Hour), at(999*time.Hour)
	must(t, s.UpdateRenewal(ctx(t), &upd))
	want := *r
	want.Status, want.Attempts, want.Codes, want.UpdatedAt = upd.Status, upd.Attempts, upd.Codes, us(upd.UpdatedAt)
	got, err := s.GetRenewal(ctx(t), shop, sub.ID, 2)
	must(t, err)
	same(t, "updated renewal", *got, want)
	got, err = s.FindRenewalByOrder(ctx(t), shop, r.OrderID)
	must(t, err)
	same(t, "updated renewal by order", *got, want)

	// Codes cleared again read back empty.
	upd = want
	upd.Status, upd.Codes, upd.UpdatedAt = kessai.RenewalSucceeded, nil, at(101*24*time.Hour)
	must(t, s.UpdateRenewal(ctx(t), &upd))
	got, err = s.GetRenewal(ctx(t), shop, sub.ID, 2)
	must(t, err)
	if got.Status != kessai.RenewalSucceeded || len(got.Codes) != 0 || got.UpdatedAt != us(at(101*24*time.Hour)) {
		t.Fatalf("renewal after clearing codes: %+v", got)
	}

	// The neighbours were not touched.
	list, err = s.ListRenewals(ctx(t), shop, sub.ID)
	must(t, err)
	same(t, "renewal periods after updates", ids(list, renewalPeriod), []string{"3", "2", "1"})
	same(t, "renewal 3 after updates", list[0], *renewals[2])
	same(t, "renewal 1 after updates", list[2], *renewals[0])
	list, err = s.ListRenewals(ctx(t), shop, sub2.ID)
	must(t, err)
	if len(list) != 1 || list[0].Status != kessai.RenewalPending || list[0].Period != 1 {
		t.Fatalf("other subscription's renewals: %+v", list)
	}

	// Missing renewals, and other shops', are not found.
	missing := *got
	missing.Period = 7
	wantErr(t, s.UpdateRenewal(ctx(t), &missing), kessai.ErrNotFound)
	elsewhere := *got
	elsewhere.ShopID = other
	elsewhere.Status = kessai.RenewalFailed
	wantErr(t, s.UpdateRenewal(ctx(t), &elsewhere), kessai.ErrNotFound)
	got, err = s.GetRenewal(ctx(t), shop, sub.ID, 2)
	must(t, err)
	if got.Status != kessai.RenewalSucceeded {
		t.Fatalf("another shop's update changed the renewal: %+v", got)
	}
}
