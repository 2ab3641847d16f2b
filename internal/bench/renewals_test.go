package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/pgtest"
)

// TestRunRenewals runs a small renewal benchmark on each database: every
// subscription must be renewed once (RunRenewals verifies the store and the
// simulator itself), the gateway must have been used within its cap, and
// the report must add up. Rates are not judged: the machine may be busy.
func TestRunRenewals(t *testing.T) {
	const n, capN = 60, 4
	for _, c := range []struct {
		db      string
		viaJobs bool
	}{{SQLite, false}, {Postgres, false}, {SQLite, true}, {Postgres, true}} {
		db := c.db
		name := db
		if c.viaJobs {
			name += "/via-jobs"
		}
		t.Run(name, func(t *testing.T) {
			o := RenewalOptions{DB: db, N: n, Cap: capN, Latency: 10 * time.Millisecond, ProgressEvery: 100 * time.Millisecond,
				ViaJobs: c.viaJobs}
			if db == Postgres {
				_, base := pgtest.Admin(t) // skips when no server answers
				o.DatabaseURL = base
			}
			var lines []string
			var mu sync.Mutex
			o.Progress = func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() }
			inspected := false
			o.Inspect = func(ctx context.Context, in *RenewalInspection) error {
				inspected = true
				// Nothing is due any more.
				due, err := in.Engine.Due(ctx, 10)
				if err != nil || len(due) != 0 {
					t.Errorf("after the run: %d due (%v)", len(due), err)
				}
				return nil
			}
			rep, err := RunRenewals(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			if !inspected {
				t.Error("Inspect was not called")
			}
			if rep.ViaJobs != c.viaJobs || rep.Jobs != true {
				t.Errorf("via jobs %v, job runner %v", rep.ViaJobs, rep.Jobs)
			}
			if rep.Warmup != n/10 {
				t.Errorf("warm-up %d, want %d", rep.Warmup, n/10)
			}
			if rep.Renewed != n || rep.Verified != n+rep.Warmup || rep.Errors != 0 || rep.Stuck != 0 {
				t.Fatalf("renewed %d, verified %d, errors %d, stuck %d; want %d, %d, 0, 0", rep.Renewed, rep.Verified, rep.Errors, rep.Stuck,
					n, n+rep.Warmup)
			}
			if g := rep.Gateway; g.Served != 2*n || g.PeakInFlight < 1 || g.PeakInFlight > capN || g.MaxConcurrent != capN {
				t.Errorf("gateway %+v: want %d calls, at most %d at once", g, 2*n, capN)
			}
			if rep.Workers != 2*capN || rep.MaxPerSecond != float64(capN)/(2*0.010) {
				t.Errorf("workers %d, cap rate %v", rep.Workers, rep.MaxPerSecond)
			}
			if rep.PerSecond <= 0 || rep.Fraction <= 0 || rep.Fraction > 1.05 {
				t.Errorf("%.1f/s = %.3f of the cap: a capped gateway cannot be beaten", rep.PerSecond, rep.Fraction)
			}
			// Each wake waits for two gateway calls of the latency, and
			// the probe sees them.
			if rep.Wake.P50 < 2*o.Latency || rep.GatewayTime.P50 < 2*o.Latency || rep.GatewayTime.Max > rep.Wake.Max || rep.Own.P50 <= 0 {
				t.Errorf("wake p50 %v, in the gateway %v, own %v: want both first at least two calls of %v", rep.Wake.P50,
					rep.GatewayTime.P50, rep.Own.P50, o.Latency)
			}
			if rep.Memory.HeapAfterSeed == 0 || rep.Memory.HeapPeak == 0 || rep.Memory.RSSPeak == 0 {
				t.Errorf("memory figures missing: %+v", rep.Memory)
			}
			var table bytes.Buffer
			if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), fmt.Sprintf("verified renewed exactly once: %d", n+rep.Warmup)) {
				t.Errorf("table: %v\n%s", err, table.String())
			}
			var js map[string]any
			if b, err := json.Marshal(rep); err != nil || json.Unmarshal(b, &js) != nil || js["renewed"] != float64(n) {
				t.Errorf("JSON: %v %s", err, b)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "run done") }) {
				t.Errorf("progress lines: %q", lines)
			}
		})
	}
}

// fakeEngine is a renewal engine in memory: Due lists due subscriptions
// soonest first (by id) from a snapshot taken before a pause, so a page
// can show subscriptions woken meanwhile, as a database read racing the
// writes does; Wake makes a subscription not due, except the stuck ones.
type fakeEngine struct {
	mu    sync.Mutex
	due   map[string]bool
	stuck map[string]bool
	wakes map[string]int
}

func (f *fakeEngine) Due(ctx context.Context, limit int) ([]kessai.Subscription, error) {
	f.mu.Lock()
	var ids []string
	for id, d := range f.due {
		if d {
			ids = append(ids, id)
		}
	}
	f.mu.Unlock()
	time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
	slices.Sort(ids)
	out := make([]kessai.Subscription, 0, min(limit, len(ids)))
	for _, id := range ids[:min(limit, len(ids))] {
		out = append(out, kessai.Subscription{ShopID: "shop", ID: id})
	}
	return out, nil
}

func (f *fakeEngine) Wake(ctx context.Context, shopID, id string) error {
	d := time.Duration(rand.IntN(300)) * time.Microsecond
	time.Sleep(d)
	// Two gateway calls, as the gateway factory's Observe hook reports
	// them: a wake without any counts as one with nothing due.
	if p, ok := ctx.Value(probeKey{}).(*probe); ok {
		p.calls.Add(2)
		p.gateway.Add(int64(d))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wakes[id]++
	if !f.stuck[id] {
		f.due[id] = false
	}
	return nil
}

// TestWakerWakesEachOnce: the feeder hands every due subscription to the
// workers exactly once although Due pages have no cursor and lag behind
// the wakes, and it finishes with the stuck ones reported, not repeated.
func TestWakerWakesEachOnce(t *testing.T) {
	const n = 5000
	f := &fakeEngine{due: map[string]bool{}, stuck: map[string]bool{}, wakes: map[string]int{}}
	for i := range n {
		id := fmt.Sprintf("sub_%05d", i)
		f.due[id] = true
		if i%1000 == 7 {
			f.stuck[id] = true
		}
	}
	o := &RenewalOptions{N: n, Workers: 16, ProgressEvery: time.Hour}
	w := &waker{eng: f, o: o, max: 1, say: func(string, ...any) {}}
	w.run(t.Context())
	if w.errs.count != 0 {
		t.Fatalf("errors: %v", w.errs.samples)
	}
	if int(w.renewed.Load()) != n || len(f.wakes) != n {
		t.Errorf("%d wakes of %d subscriptions, want %d of %d", w.renewed.Load(), len(f.wakes), n, n)
	}
	for id, c := range f.wakes {
		if c != 1 {
			t.Errorf("%s woken %d times", id, c)
		}
	}
	if w.stuck != len(f.stuck) {
		t.Errorf("%d stuck, want %d", w.stuck, len(f.stuck))
	}
	if len(w.inflight) != 0 {
		t.Errorf("%d left in flight", len(w.inflight))
	}
}
