package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
)

// fakeRenewals is the subscription engine as the runner sees it, shared
// by every instance of a deployment as the database would be. A
// subscription is due while its WakeAt is set and not in the future; a
// successful Wake clears it, as the engine moves WakeAt on. Each Wake is
// counted under the wake it found (subscription and WakeAt at the call),
// so a second job for the same wake shows as a second call under the same
// key; a call that finds nothing due (a job queued just before an earlier
// one finished) counts under wakeKey(id, time.Time{}) instead.
type fakeRenewals struct {
	mu       sync.Mutex
	subs     map[string]*kessai.Subscription
	calls    map[string]int
	failures map[string]int // failures left to return, per subscription
	// wakeGate and dueGate, when not nil, hold Wake (after it counted
	// the call) and Due until closed.
	wakeGate, dueGate chan struct{}

	dueCalls atomic.Int32
	inside   atomic.Int32 // Wake calls waiting at wakeGate
}

func newFakeRenewals() *fakeRenewals {
	return &fakeRenewals{subs: map[string]*kessai.Subscription{}, calls: map[string]int{}, failures: map[string]int{}}
}

func wakeKey(id string, at time.Time) string {
	if at.IsZero() {
		return id + "@-"
	}
	return id + "@" + strconv.FormatInt(at.UnixMicro(), 10)
}

// set makes (or moves) a subscription's wake; zero means never.
func (f *fakeRenewals) set(shop, id string, wakeAt time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs[id] = &kessai.Subscription{ID: id, ShopID: shop, WakeAt: wakeAt.Truncate(time.Microsecond)}
}

func (f *fakeRenewals) wakeAt(id string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subs[id].WakeAt
}

func (f *fakeRenewals) failNext(id string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[id] = n
}

func (f *fakeRenewals) callsOf(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func (f *fakeRenewals) allCalls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.calls))
	for k, n := range f.calls {
		out[k] = n
	}
	return out
}

// Due lists, then waits at dueGate: a scan held there has read the
// subscriptions as they were before whatever the test changes meanwhile.
func (f *fakeRenewals) Due(ctx context.Context, limit int) ([]kessai.Subscription, error) {
	out := f.due(limit)
	f.dueCalls.Add(1)
	if f.dueGate != nil {
		select {
		case <-f.dueGate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return out, nil
}

func (f *fakeRenewals) due(limit int) []kessai.Subscription {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	var out []kessai.Subscription
	for _, s := range f.subs {
		if !s.WakeAt.IsZero() && !s.WakeAt.After(now) {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b kessai.Subscription) int {
		return cmp.Or(a.WakeAt.Compare(b.WakeAt), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(limit, len(out))]
}

func (f *fakeRenewals) Wake(ctx context.Context, shopID, id string) error {
	f.mu.Lock()
	s := f.subs[id]
	var found time.Time
	if s != nil && s.ShopID == shopID && !s.WakeAt.After(time.Now()) {
		found = s.WakeAt
	}
	f.calls[wakeKey(id, found)]++
	fail := f.failures[id] > 0
	if fail {
		f.failures[id]--
	}
	f.mu.Unlock()
	if fail {
		return errors.New("database unavailable")
	}
	if f.wakeGate != nil {
		f.inside.Add(1)
		select {
		case <-f.wakeGate:
			f.inside.Add(-1)
		case <-ctx.Done():
			f.inside.Add(-1)
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !found.IsZero() && s.WakeAt.Equal(found) {
		s.WakeAt = time.Time{} // charged: nothing due until the next period
	}
	return nil
}

// staleCalls is the number of calls that found nothing due. They are
// harmless (Wake is idempotent) and can happen by design: a scan that
// listed a subscription just before its job finished queues a new job
// after it, since finished jobs do not block a new one for the same wake.
func (f *fakeRenewals) staleCalls() int {
	n := 0
	for k, c := range f.allCalls() {
		if strings.HasSuffix(k, "@-") {
			n += c
		}
	}
	return n
}

// tagged counts the wakes one instance ran.
type tagged struct {
	*fakeRenewals
	wakes atomic.Int32
}

func (t *tagged) Wake(ctx context.Context, shopID, id string) error {
	t.wakes.Add(1)
	return t.fakeRenewals.Wake(ctx, shopID, id)
}

// renewalOptions are testOptions with renewals on: scans every second.
func renewalOptions(t testing.TB, r Renewals) Options {
	opts := testOptions(t)
	opts.Renewals = r
	opts.RenewalInterval = time.Second
	opts.RenewalWorkers = 2
	return opts
}

func unfinishedJobs(t *testing.T, r *Runner, kind string) int {
	t.Helper()
	return countJobs(t, r, "kind = '"+kind+"' AND state IN ("+unfinishedStates+")")
}

// TestRenewalScanQueuesOneJobPerWake: a scan queues one wake job per due
// subscription on the renewals queue; scanning again queues nothing while
// those jobs wait; a subscription's later wake gets a job of its own.
// Jobs queued by an instance that never worked them (stopped, or killed)
// are worked by another one, each wake once.
func TestRenewalScanQueuesOneJobPerWake(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		fake := newFakeRenewals()
		f := newFixture(t, b, renewalOptions(t, fake))
		r := f.inst.runner
		now := time.Now()
		fake.set(f.shop, "sub_a", now.Add(-3*time.Hour))
		fake.set(f.shop, "sub_b", now.Add(-2*time.Hour))
		fake.set(f.shop, "sub_c", now.Add(-time.Minute))
		fake.set(f.shop, "sub_later", now.Add(time.Hour)) // not due yet
		fake.set(f.shop, "sub_never", time.Time{})        // ended: never wakes
		wakeB, wakeC := fake.wakeAt("sub_b"), fake.wakeAt("sub_c")

		if n, err := r.scanRenewals(f.ctx); err != nil || n != 3 {
			t.Fatalf("first scan queued %d, %v; want 3", n, err)
		}
		if n := countJobs(t, r, "kind = '"+kindWake+"' AND queue = '"+QueueRenewals+"' AND max_attempts = "+strconv.Itoa(wakeMaxAttempts)); n != 3 {
			t.Fatalf("%d wake jobs on the renewals queue, want 3", n)
		}
		// Re-polls (the periodic scan, a kick, another process) skip
		// the wakes already queued.
		for range 3 {
			if n, err := r.scanRenewals(f.ctx); err != nil || n != 0 {
				t.Fatalf("repeated scan queued %d, %v; want 0", n, err)
			}
		}
		if n := countJobs(t, r, "kind = '"+kindWake+"'"); n != 3 {
			t.Fatalf("%d wake jobs after re-polls, want 3", n)
		}
		if q, d := r.wakesQueued.Load(), r.wakeDuplicates.Load(); q != 3 || d != 9 {
			t.Errorf("queued %d, skipped %d; want 3 and 9", q, d)
		}
		// A later wake of sub_a (as if its period moved on while its job
		// waited) is a new wake: one more job.
		fake.set(f.shop, "sub_a", now.Add(-time.Second))
		wakeA := fake.wakeAt("sub_a")
		if n, err := r.scanRenewals(f.ctx); err != nil || n != 1 {
			t.Fatalf("scan after a new wake queued %d, %v; want 1", n, err)
		}
		if n := countJobs(t, r, "kind = '"+kindWake+"'"); n != 4 {
			t.Fatalf("%d wake jobs, want 4", n)
		}

		// The first instance never starts; a second one works its jobs.
		second := f.open(t, renewalOptions(t, fake))
		f.start(second)
		waitFor(t, 20*time.Second, "every wake", func() bool {
			return fake.callsOf(wakeKey("sub_a", wakeA)) >= 1 && fake.callsOf(wakeKey("sub_b", wakeB)) >= 1 &&
				fake.callsOf(wakeKey("sub_c", wakeC)) >= 1
		})
		waitFor(t, 20*time.Second, "the wake jobs to finish", func() bool { return unfinishedJobs(t, r, kindWake) == 0 })
		for _, k := range []string{wakeKey("sub_a", wakeA), wakeKey("sub_b", wakeB), wakeKey("sub_c", wakeC)} {
			if n := fake.callsOf(k); n != 1 {
				t.Errorf("wake %s ran %d times, want once", k, n)
			}
		}
		for k := range fake.allCalls() {
			if strings.HasPrefix(k, "sub_later@") || strings.HasPrefix(k, "sub_never@") {
				t.Errorf("a subscription not due was woken: %s", k)
			}
		}
		// Of sub_a's two jobs, the second to run found its wake handled:
		// a stale, harmless call.
		if n := fake.staleCalls(); n < 1 {
			t.Errorf("%d calls found nothing due, want at least sub_a's superseded job", n)
		}
		t.Logf("%s: calls %v", b.name, fake.allCalls())
	})
}

// TestRenewalWakeRetried: a failing Wake is retried by River with backoff
// (the first retry comes after about a second) on the same job: scans
// during the backoff add no second job, and the job completes on its
// second attempt.
func TestRenewalWakeRetried(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		fake := newFakeRenewals()
		f := newFixture(t, b, renewalOptions(t, fake))
		fake.set(f.shop, "sub_fail", time.Now().Add(-time.Hour))
		fake.failNext("sub_fail", 1)
		key := wakeKey("sub_fail", fake.wakeAt("sub_fail"))
		f.start(f.inst)

		waitFor(t, 30*time.Second, "the retried wake", func() bool { return fake.callsOf(key) == 2 })
		waitFor(t, 10*time.Second, "the wake job to finish", func() bool { return unfinishedJobs(t, f.inst.runner, kindWake) == 0 })
		r := f.inst.runner
		if n := countJobs(t, r, "kind = '"+kindWake+"'"); n != 1 {
			t.Errorf("%d wake jobs, want the one retried", n)
		}
		if n := countJobs(t, r, "kind = '"+kindWake+"' AND state = 'completed' AND attempt = 2"); n != 1 {
			t.Errorf("the wake job did not complete on its second attempt")
		}
		if n := fake.callsOf(key); n != 2 {
			t.Errorf("Wake called %d times, want 2 (a failure, then the retry)", n)
		}
		if !fake.wakeAt("sub_fail").IsZero() {
			t.Error("the subscription is still due after the retry succeeded")
		}
	})
}

// TestRenewalKick: KickRenewals queues a scan, deduplicated against one
// already waiting; while a scan is running it queues exactly one more
// behind it, since the running one may have listed before the caller's
// change.
func TestRenewalKick(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		fake := newFakeRenewals()
		fake.dueGate = make(chan struct{})
		opts := renewalOptions(t, fake)
		opts.RenewalInterval = time.Hour // only RunOnStart and kicks scan
		f := newFixture(t, b, opts)
		r := f.inst.runner
		var once sync.Once
		openGate := func() { once.Do(func() { close(fake.dueGate) }) }

		r.KickRenewals()
		r.KickRenewals()
		if n := unfinishedJobs(t, r, kindRenewalsDue); n != 1 {
			t.Fatalf("%d scans queued by two kicks before start, want 1", n)
		}
		f.start(f.inst)
		t.Cleanup(openGate) // before the runner's Stop (cleanups run last-in first-out)
		waitFor(t, 20*time.Second, "a scan to start", func() bool { return fake.dueCalls.Load() == 1 })
		if n := countJobs(t, r, "kind = '"+kindRenewalsDue+"' AND state = 'running'"); n != 1 {
			t.Fatalf("%d scans running, want 1", n)
		}
		// A due subscription appears after the running scan listed.
		fake.set(f.shop, "sub_new", time.Now().Add(-time.Second))
		key := wakeKey("sub_new", fake.wakeAt("sub_new"))
		r.KickRenewals()
		r.KickRenewals()
		if n := unfinishedJobs(t, r, kindRenewalsDue); n != 2 {
			t.Fatalf("%d scans unfinished after kicks during a scan, want 2 (the running one and one behind it)", n)
		}
		openGate()
		waitFor(t, 20*time.Second, "the kicked scan to wake sub_new", func() bool { return fake.callsOf(key) == 1 })
		if n := fake.dueCalls.Load(); n != 2 {
			t.Errorf("Due called %d times, want 2", n)
		}
	})
}

// TestRenewalsOff: without Options.Renewals there is no scan and no
// renewals queue, and KickRenewals does nothing.
func TestRenewalsOff(t *testing.T) {
	db := openSQLite(t)
	r, err := NewSQLite(db.SQL(), db, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.KickRenewals()
	if n, err := r.scanRenewals(t.Context()); err != nil || n != 0 {
		t.Errorf("scan without renewals = %d, %v", n, err)
	}
	if n := countJobs(t, r, "kind IN ('"+kindRenewalsDue+"', '"+kindWake+"')"); n != 0 {
		t.Errorf("%d renewal jobs queued with renewals off", n)
	}
	if _, err := NewSQLite(db.SQL(), db, Options{Renewals: newFakeRenewals(), RenewalInterval: 100 * time.Millisecond}); err == nil {
		t.Error("a RenewalInterval under a second was accepted")
	}
}

// TestRenewalTwoInstances is the key test of renewals: two Runners (two
// processes) on one database, both scanning — periodically, by kicks and
// by direct scans racing each other — while every wake is held inside
// Wake, must queue exactly one job per wake and run each wake once, on
// both instances' workers.
func TestRenewalTwoInstances(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		subs := 40
		if b.name == "sqlite" || testing.Short() {
			subs = 12 // two processes on one file serialise on its lock
		}
		fake := newFakeRenewals()
		fake.wakeGate = make(chan struct{})
		var once sync.Once
		openGate := func() { once.Do(func() { close(fake.wakeGate) }) }
		one, two := &tagged{fakeRenewals: fake}, &tagged{fakeRenewals: fake}
		f := newFixture(t, b, renewalOptions(t, one))
		second := f.open(t, renewalOptions(t, two))
		now := time.Now()
		keys := make([]string, subs)
		for i := range subs {
			id := fmt.Sprintf("sub_%03d", i)
			fake.set(f.shop, id, now.Add(-time.Duration(subs-i)*time.Second))
			keys[i] = wakeKey(id, fake.wakeAt(id))
		}
		f.start(f.inst)
		f.start(second)
		t.Cleanup(openGate)
		runners := []*Runner{f.inst.runner, second.runner}

		// Scans race on both instances while no wake can finish.
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for _, r := range runners {
			wg.Go(func() {
				for range 10 {
					if _, err := r.scanRenewals(f.ctx); err != nil {
						errs <- err
					}
					r.KickRenewals()
					time.Sleep(5 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			// A scan may fail transiently (SQLite busy between two
			// processes); the others carry on. Log, do not fail.
			t.Logf("scan error (tolerated): %v", err)
		}
		// Each instance runs as many wakes as its renewals queue allows.
		workers := int32(renewalOptions(t, nil).RenewalWorkers)
		waitFor(t, 20*time.Second, "both instances' workers to hold a wake", func() bool {
			return fake.inside.Load() == 2*workers && one.wakes.Load() == workers && two.wakes.Load() == workers
		})
		if n := countJobs(t, runners[0], "kind = '"+kindWake+"'"); n != subs {
			t.Fatalf("%d wake jobs for %d due subscriptions, want one each", n, subs)
		}
		if q := runners[0].wakesQueued.Load() + runners[1].wakesQueued.Load(); q != int64(subs) {
			t.Errorf("the scans inserted %d wake jobs in all, want %d", q, subs)
		}

		openGate()
		waitFor(t, 60*time.Second, "every wake", func() bool {
			for _, k := range keys {
				if fake.callsOf(k) == 0 {
					return false
				}
			}
			return true
		})
		waitFor(t, 20*time.Second, "the wake jobs to finish", func() bool { return unfinishedJobs(t, runners[0], kindWake) == 0 })
		for _, k := range keys {
			if n := fake.callsOf(k); n != 1 {
				t.Errorf("wake %s ran %d times, want once", k, n)
			}
		}
		t.Logf("%s: %d wakes by two instances (%d and %d calls); %d duplicate inserts skipped; %d stale calls",
			b.name, subs, one.wakes.Load(), two.wakes.Load(),
			runners[0].wakeDuplicates.Load()+runners[1].wakeDuplicates.Load(), fake.staleCalls())
	})
}
