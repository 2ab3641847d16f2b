package subscription_test

import (
	"fmt"
	"time"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/subscription"
)

// A monthly schedule from 31 January lands on the last day of shorter
// months and comes back to the 31st, in 2028 on the leap day; a start at
// 23:30 JST keeps that time.
func ExampleInterval_Date() {
	i := subscription.Interval{Unit: subscription.Month, Count: 1}
	first := time.Date(2028, 1, 31, 23, 30, 0, 0, escott.JST)
	for n := range 5 {
		fmt.Println(i.Date(first, n).Format("2006-01-02 15:04"))
	}
	// Output:
	// 2028-01-31 23:30
	// 2028-02-29 23:30
	// 2028-03-31 23:30
	// 2028-04-30 23:30
	// 2028-05-31 23:30
}

// With an anchor day the first charge waits for the first anchor date on
// or after the trial's end, for the full amount; Next finds the billing
// date after any instant.
func ExampleFirstBillingDate() {
	i := subscription.Interval{Unit: subscription.Month, Count: 1, AnchorDay: 25}
	start := time.Date(2026, 4, 1, 10, 0, 0, 0, escott.JST)
	trialEnd := start.AddDate(0, 0, 30) // 1 May
	first := subscription.FirstBillingDate(start, trialEnd, i)
	next, n := subscription.Next(time.Date(2026, 7, 4, 0, 0, 0, 0, escott.JST), first, i)
	fmt.Println(first.Format("2006-01-02"), next.Format("2006-01-02"), n)
	// Output:
	// 2026-05-25 2026-07-25 2
}

// A limit-exceeded decline is retried after 1 day by the default
// policy; a stolen card puts the subscription on hold at once and asks
// for a new card; a lost answer is never retried.
func ExampleDecide() {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, escott.JST)
	for _, codes := range [][]string{{"G55"}, {"G60"}, {"NG"}} {
		d := subscription.Classify(codes)
		dec := subscription.Decide(subscription.RetryPolicy{}, 0, d, now)
		next := "no retry"
		if !dec.NextAttempt.IsZero() {
			next = "retry " + dec.NextAttempt.Format("01-02 15:04")
		}
		fmt.Printf("%s %s status=%q %s reconcile=%v %v\n", codes[0], d, dec.Status, next, dec.Reconcile, dec.Events)
	}
	// Output:
	// G55 soft status="active" retry 05-02 10:00 reconcile=false [subscription.renewal_failed subscription.retry_scheduled]
	// G60 hard status="on_hold" no retry reconcile=false [subscription.renewal_failed subscription.on_hold subscription.card_required]
	// NG unknown status="" no retry reconcile=true []
}

// The renewal engine's loop: wake up, Tick, charge, record the outcome.
// Here the first renewal is declined, retried the next day, and paid.
func ExampleState() {
	start := time.Date(2026, 1, 31, 10, 0, 0, 0, escott.JST)
	s, err := subscription.New(start, time.Time{}, subscription.Interval{Unit: subscription.Month, Count: 1}, subscription.End{MaxPayments: 12})
	if err != nil {
		panic(err)
	}
	s, events, _ := s.Activate(start, true) // the checkout charged the first month
	fmt.Println(s.Status, events, s.WakeAt().Format("01-02 15:04"))

	now := s.WakeAt()
	s, _, charge := s.Tick(now)
	fmt.Println("charge:", charge)
	s, events, _ = s.RenewalFailed(subscription.RetryPolicy{}, subscription.Classify([]string{"G54"}), now)
	fmt.Println(s.Status, s.Failures, events, s.WakeAt().Format("01-02 15:04"))

	now = s.WakeAt()
	s, _, charge = s.Tick(now)
	fmt.Println("charge:", charge)
	s, events, _ = s.Renewed(now)
	fmt.Println(s.Status, s.Paid, events, s.Due().Format("01-02 15:04"))
	// Output:
	// active [subscription.created] 02-28 10:00
	// charge: true
	// active 1 [subscription.renewal_failed subscription.retry_scheduled] 03-01 10:00
	// charge: true
	// active 2 [subscription.renewed] 03-31 10:00
}
