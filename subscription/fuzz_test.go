package subscription

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

// Fuzz tests. The seeds run as ordinary tests; `go test -fuzz=FuzzNext
// ./subscription/` explores further.

// fuzzInterval builds an interval from fuzz bytes: any unit, a count up to
// its maximum, any anchor day (including the ignored ones).
func fuzzInterval(unit, count, anchor uint8) Interval {
	u := []Unit{Day, Week, Month, Year}[unit%4]
	return Interval{Unit: u, Count: 1 + int(count)%MaxCount(u), AnchorDay: int(anchor) % 32}
}

// fuzzTime maps an int64 to an instant between 1990 and 2190.
func fuzzTime(sec int64) time.Time {
	const span = 200 * 365 * 86400
	base := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	sec %= span
	if sec < 0 {
		sec += span
	}
	return time.Unix(base+sec, 0)
}

// FuzzNext: for any schedule and instant, Next returns the first date
// strictly after it — Date(n) > after ≥ Date(n-1) — and the dates around
// it increase; and 30 periods from the first date check out as in
// TestScheduleProperties.
func FuzzNext(f *testing.F) {
	f.Add(uint8(2), uint8(0), uint8(31), int64(1_138_000_000), int64(86400*400))
	f.Add(uint8(3), uint8(0), uint8(29), int64(1_204_243_200), int64(86400*3000))
	f.Add(uint8(0), uint8(44), uint8(0), int64(0), int64(-5))
	f.Add(uint8(1), uint8(3), uint8(0), int64(123_456_789), int64(86400*7*3))
	f.Fuzz(func(t *testing.T, unit, count, anchor uint8, startSec, offset int64) {
		i := fuzzInterval(unit, count, anchor)
		start := fuzzTime(startSec)
		first := FirstBillingDate(start, time.Time{}, i)
		if first.Before(start) || first.Location() != escott.JST {
			t.Fatalf("%+v: first %v before start %v", i, first, start)
		}
		after := first.Add(time.Duration(offset%(86400*5000)) * time.Second)
		d, n := Next(after, first, i)
		if n < 0 || !d.Equal(i.Date(first, n)) || !d.After(after) {
			t.Fatalf("%+v from %v: Next(%v) = %v, %d", i, first, after, d, n)
		}
		if n > 0 && i.Date(first, n-1).After(after) {
			t.Fatalf("%+v from %v: Next(%v) = %d, but date %d is after it too", i, first, after, n, n-1)
		}
		if !i.Date(first, n+1).After(d) {
			t.Fatalf("%+v from %v: dates %d and %d not increasing", i, first, n, n+1)
		}
		checkSchedule(t, i, first, 30)
	})
}

// FuzzLifecycle drives a subscription through a random sequence of
// actions and clock moves and checks the invariants after each step:
// statuses are valid and final ones never change, a refused action
// leaves the State as it was, Period and Paid never go back, a hold has
// a reason and only a hold has one, nothing is charged while pending,
// paused, unconfirmed or final, Tick changes nothing before WakeAt, and
// every event is a declared one.
func FuzzLifecycle(f *testing.F) {
	f.Add(uint8(2), uint8(0), uint8(0), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Add(uint8(2), uint8(0), uint8(31), []byte{0, 7, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 13})
	f.Add(uint8(1), uint8(1), uint8(0), []byte{0, 8, 12, 2, 3, 12, 4, 5, 10, 6})
	f.Add(uint8(0), uint8(6), uint8(0), []byte{1, 10, 9, 11, 9, 9, 9, 9, 9})
	f.Fuzz(runLifecycle)
}

// runLifecycle is the body of FuzzLifecycle.
func runLifecycle(t *testing.T, unit, count, anchor uint8, ops []byte) {
	i := fuzzInterval(unit, count, anchor)
	if i.Unit == Day || i.Unit == Week {
		i.AnchorDay = 0 // Validate refuses anchors on days and weeks
	}
	now := jst(2026, 1, 31, 23, 30)
	end := End{}
	if len(ops) > 0 && ops[0]%3 == 1 {
		end.MaxPayments = 1 + int(ops[0])%7
	}
	trial := time.Time{}
	if len(ops) > 1 && ops[1]%2 == 1 {
		trial = now.Add(time.Duration(ops[1]) * time.Hour)
	}
	s, err := New(now, trial, i, end)
	if err != nil {
		t.Fatalf("New(%+v): %v", i, err)
	}
	policies := []RetryPolicy{{}, {Delays: []time.Duration{time.Hour}, OnHoldAfter: 1, CancelAfter: 3 * day}, {Delays: []time.Duration{}, CancelAfter: -1}}
	declines := []Decline{DeclineSoft, DeclineHard, DeclineShop, DeclineUnknown}
	declared := func(events []string) bool {
		for _, e := range events {
			if !slices.Contains(EventTypes, e) {
				return false
			}
		}
		return true
	}
	for k, op := range ops {
		before := s
		var next State
		var events []string
		var err error
		p := policies[k%len(policies)]
		switch op % 14 {
		case 0:
			next, events, err = s.Activate(now, op&0x10 != 0)
		case 1:
			next, events, err = s.Pause(now)
		case 2:
			next, events, err = s.Resume(now)
		case 3:
			next, events, err = s.Cancel(now)
		case 4:
			next, events, err = s.ScheduleCancel(now)
		case 5:
			next, events, err = s.WithdrawCancel(now)
		case 6:
			next, events, err = s.Expire(now)
		case 7:
			next, events, err = s.Renewed(now)
		case 8:
			next, events, err = s.RenewalFailed(p, declines[int(op>>4)%len(declines)], now)
		case 9, 10:
			// Move the clock to the next wake-up (or by a few days)
			// and let time act; charge when asked, with an outcome
			// taken from the op.
			w := s.WakeAt()
			if w.After(now) {
				if n, ev, c := s.Tick(w.Add(-time.Nanosecond)); c || len(ev) > 0 || !reflect.DeepEqual(n, s) {
					t.Fatalf("Tick before WakeAt %v acted: %v %v on %+v", w, c, ev, s)
				}
			}
			if w.IsZero() || op == 10 {
				w = now.Add(time.Duration(1+op>>4) * day)
			}
			if w.After(now) {
				now = w
			}
			var charge bool
			next, events, charge = s.Tick(now)
			if charge {
				if next.Status != StatusActive && !(next.Status == StatusOnHold && next.Hold == HoldPaymentFailed) || next.Unconfirmed {
					t.Fatalf("charging %+v", next)
				}
			}
		case 11:
			next = s.CardChanged(now)
		case 12:
			now = now.Add(time.Duration(op) * time.Hour)
			next = s
		case 13:
			_, _ = s.WakeAt(), s.Due()
			next = s
		}
		if err != nil {
			if !reflect.DeepEqual(next, before) || events != nil {
				t.Fatalf("op %d refused (%v) but changed %+v into %+v / %v", op, err, before, next, events)
			}
			continue
		}
		if !next.Status.Valid() || !declared(events) {
			t.Fatalf("op %d: status %q, events %v", op, next.Status, events)
		}
		if before.Status.Final() && !reflect.DeepEqual(next, before) {
			t.Fatalf("op %d moved a final state %+v to %+v", op, before, next)
		}
		if next.Period < before.Period || next.Paid < before.Paid {
			t.Fatalf("op %d went back: %+v → %+v", op, before, next)
		}
		if (next.Status == StatusOnHold) != (next.Hold != "") {
			t.Fatalf("op %d: status %s with hold %q", op, next.Status, next.Hold)
		}
		if (next.Status == StatusPending || next.Status.Final() || next.Hold == HoldPaused || next.Unconfirmed) && !next.NextAttempt.IsZero() {
			t.Fatalf("op %d: %s (hold %q, unconfirmed %v) with an attempt at %v", op, next.Status, next.Hold, next.Unconfirmed, next.NextAttempt)
		}
		if next.Status == StatusActive && !next.Unconfirmed && next.NextAttempt.IsZero() {
			t.Fatalf("op %d: active without a next attempt: %+v", op, next)
		}
		s = next
	}
}

// TestLifecycleRandom runs the FuzzLifecycle checks on fixed
// pseudo-random sequences, so every test run covers long lifecycles and
// not only the seeds.
func TestLifecycleRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 1))
	runs := 300
	if testing.Short() {
		runs = 30
	}
	for range runs {
		ops := make([]byte, 1+r.IntN(300))
		for k := range ops {
			ops[k] = byte(r.UintN(256))
		}
		runLifecycle(t, uint8(r.UintN(4)), uint8(r.UintN(256)), uint8(r.UintN(32)), ops)
	}
}
