package bench

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// collectionTestN is small: the tests check that the figures add up and
// that the runs did what they claim, not how fast the machine is.
const collectionTestN = 20

// collectionOptions are the tests' options on db, with the phases
// reported to *phases; they skip the test when PostgreSQL is unreachable.
func collectionOptions(t *testing.T, db string, phases *[]string) Options {
	t.Helper()
	o := testOptions(t, db, collectionTestN)
	var mu sync.Mutex
	o.Progress = func(p string) { mu.Lock(); *phases = append(*phases, p); mu.Unlock() }
	return o
}

var wantPhases = []string{"setup", "warmup", "run", "verify"}

// runCollectionBench runs one of the collection benchmarks (run) on db
// with collectionOptions and inspect as Options.Inspect, and checks the
// phases it reported. It returns the report, the options it ran with and
// the measured calls Inspect saw.
func runCollectionBench[R any](t *testing.T, db string, inspect func(*testing.T, context.Context, *Inspection),
	run func(context.Context, Options) (R, error)) (R, Options, []Checkout) {
	t.Helper()
	var phases []string
	o := collectionOptions(t, db, &phases)
	rep, seen := runInspected(t, o, inspect, run)
	if !slices.Equal(phases, wantPhases) {
		t.Errorf("phases %q, want %q", phases, wantPhases)
	}
	return rep, o, seen
}

// TestCollectionRegistrations runs RunCollections on each database and
// checks the report and, independently of RunCollections' own checks, the
// simulator and the store.
func TestCollectionRegistrations(t *testing.T) {
	for _, db := range []string{SQLite, Postgres} {
		t.Run(db, func(t *testing.T) {
			rep, o, seen := runCollectionBench(t, db, inspectRegistrations, RunCollections)
			if rep.Registrations != collectionTestN || rep.Errors != 0 || rep.Verified != collectionTestN || len(seen) != collectionTestN {
				t.Fatalf("registrations %d, errors %d, verified %d, inspected %d; want %d, 0, %d, %d", rep.Registrations,
					rep.Errors, rep.Verified, len(seen), collectionTestN, collectionTestN, collectionTestN)
			}
			if rep.Warmup != o.Concurrency || rep.Analyzed != (db == Postgres) || !rep.Jobs || !rep.IdempotencyKey {
				t.Errorf("warm-up %d, analyzed %v, jobs %v, idempotency key %v", rep.Warmup, rep.Analyzed, rep.Jobs, rep.IdempotencyKey)
			}
			checkCalls(t, seen, "2Add")
			// A registration is one 2Add; the client's counter and the
			// probes must agree.
			if rep.GatewayCalls != collectionTestN {
				t.Errorf("the collection client counted %d calls, want %d", rep.GatewayCalls, collectionTestN)
			}
			checkDists(t, map[string]Dist{"added": rep.Added, "total": rep.Total, "gateway": rep.Gateway,
				"create order": rep.CreateOrder}, rep.Added, rep.Total, rep.Gateway)
			checkRun(t, rep.Wall, rep.PerSecond, rep.Machine, rep.DBVersion)

			var table bytes.Buffer
			if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "added (total − gateway)") ||
				!strings.Contains(table.String(), "verified at the simulator and in the store: 20") {
				t.Errorf("table (%v):\n%s", err, table.String())
			}
			checkJSON(t, rep, "registrations", "registrations_per_second")
		})
	}
}

// TestCollectionNotifications runs RunNotifications on each database:
// every notification must have been confirmed by one 2Ref and paid its
// collection once.
func TestCollectionNotifications(t *testing.T) {
	for _, db := range []string{SQLite, Postgres} {
		t.Run(db, func(t *testing.T) {
			rep, o, seen := runCollectionBench(t, db, inspectPaid, RunNotifications)
			if rep.Notifications != collectionTestN || rep.Errors != 0 || rep.Verified != collectionTestN || len(seen) != collectionTestN {
				t.Fatalf("notifications %d, errors %d, verified %d, inspected %d; want %d, 0, %d, %d", rep.Notifications,
					rep.Errors, rep.Verified, len(seen), collectionTestN, collectionTestN, collectionTestN)
			}
			if rep.Warmup != o.Concurrency || rep.Analyzed != (db == Postgres) || rep.Setup <= 0 {
				t.Errorf("warm-up %d, analyzed %v, setup %s", rep.Warmup, rep.Analyzed, rep.Setup)
			}
			checkCalls(t, seen, "2Ref")
			if rep.GatewayCalls != collectionTestN {
				t.Errorf("the collection client counted %d calls, want %d (one 2Ref each)", rep.GatewayCalls, collectionTestN)
			}
			checkDists(t, map[string]Dist{"added": rep.Added, "total": rep.Total, "gateway": rep.Gateway},
				rep.Added, rep.Total, rep.Gateway)
			checkRun(t, rep.Wall, rep.PerSecond, rep.Machine, rep.DBVersion)

			var table bytes.Buffer
			if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "gateway (2Ref)") ||
				!strings.Contains(table.String(), "verified paid exactly once (one payment.paid event): 20") {
				t.Errorf("table (%v):\n%s", err, table.String())
			}
			checkJSON(t, rep, "notifications", "notifications_per_second")
		})
	}
}

// TestCollectionLatency checks that the simulator's latency is counted as
// the gateway's time, not kessai's, in both benchmarks.
func TestCollectionLatency(t *testing.T) {
	const latency = 20 * time.Millisecond
	o := Options{N: 8, Concurrency: 8, Latency: latency, NoJobs: true}
	reg, err := RunCollections(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	nt, err := RunNotifications(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]Dist{"registration": reg.Gateway, "notification": nt.Gateway} {
		// One call each, which waits the latency at the simulator.
		if d.P50 < latency || d.Max < latency {
			t.Errorf("%s: gateway %+v, want every call at least %s", name, d, latency)
		}
	}
	if reg.Jobs || nt.Jobs {
		t.Error("the job runner ran with NoJobs")
	}
}

// TestCollectionBadOptions: options that cannot run are refused before
// anything starts, without a report.
func TestCollectionBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"unknown database":     {DB: "mysql"},
		"postgres without url": {DB: Postgres},
		"negative latency":     {Latency: -time.Millisecond},
		"negative jitter":      {Jitter: -time.Millisecond},
	} {
		if rep, err := RunCollections(t.Context(), o); err == nil || rep != nil {
			t.Errorf("%s: RunCollections returned %v, %v; want an error only", name, rep, err)
		}
		if rep, err := RunNotifications(t.Context(), o); err == nil || rep != nil {
			t.Errorf("%s: RunNotifications returned %v, %v; want an error only", name, rep, err)
		}
	}
}

// TestCollectionMismatches: the per-call checks and the verifications
// catch what a run must not be quoted with — a registration the gateway
// refused, one the store does not know, a notification refused before its
// 2Ref, and one whose 2Ref failed so that the collection stayed unpaid.
func TestCollectionMismatches(t *testing.T) {
	ctx := t.Context()
	o := Options{Concurrency: 2, NoJobs: true}
	if err := o.normalise(); err != nil {
		t.Fatal(err)
	}
	st, err := start(ctx, &o)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.close(); err != nil {
			t.Error(err)
		}
	}()

	good, err := st.register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.verifyRegistrations(ctx, []Checkout{good}, 1); n != 1 || err != nil {
		t.Fatalf("a good registration: verified %d, %v", n, err)
	}
	unknown := good
	unknown.PaymentID = "pay_unknown"
	if n, err := st.verifyRegistrations(ctx, []Checkout{unknown}, 1); n != 0 || err == nil {
		t.Errorf("a payment the store does not have: verified %d, %v", n, err)
	}
	st.sim.AddFault(sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpCvsAdd, ResponseCd: "E90", Times: 1})
	if _, err := st.register(ctx); err == nil || !strings.Contains(err.Error(), "collect") {
		t.Errorf("a 2Add the gateway refused: %v", err)
	}

	cols, err := st.paidCollections(ctx, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Another order's MerchantFree2: refused before any gateway call.
	forged := cols[0]
	forged.notification = strings.Replace(forged.notification, cols[0].orderID, cols[1].orderID, 1)
	if _, err := st.notify(ctx, forged); err == nil || !strings.Contains(err.Error(), "no 2Ref") {
		t.Errorf("a forged notification: %v", err)
	}
	if _, err := st.notify(ctx, cols[1]); err != nil {
		t.Fatal(err)
	}
	// The 2Ref fails: the receiver still answers 200 and the collection
	// stays unpaid, which only the verification can tell.
	st.sim.AddFault(sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpCvsRef, ResponseCd: "E90", Times: 1})
	if _, err := st.notify(ctx, cols[2]); err != nil {
		t.Fatal(err)
	}
	n, err := st.verifyPaid(ctx, cols, 0)
	if n != 1 || err == nil || !strings.Contains(err.Error(), cols[0].paymentID) || !strings.Contains(err.Error(), cols[2].paymentID) {
		t.Errorf("verified %d (want 1: %s only), error %v", n, cols[1].paymentID, err)
	}
}

// checkCalls checks each measured call: a distinct order, one gateway
// call (op), and 0 < gateway ≤ handler ≤ total.
func checkCalls(t *testing.T, seen []Checkout, op string) {
	t.Helper()
	ids := map[string]bool{}
	for _, c := range seen {
		if ids[c.OrderID] || c.PaymentID == "" {
			t.Errorf("order %s measured twice or without payment (%q)", c.OrderID, c.PaymentID)
		}
		ids[c.OrderID] = true
		if c.GatewayCalls != 1 {
			t.Errorf("order %s: %d gateway calls, want 1 (%s)", c.OrderID, c.GatewayCalls, op)
		}
		if c.Gateway <= 0 || c.Gateway > c.Handler || c.Handler > c.Total {
			t.Errorf("order %s: gateway %s, handler %s, total %s: want 0 < gateway ≤ handler ≤ total",
				c.OrderID, c.Gateway, c.Handler, c.Total)
		}
	}
}

// checkDists checks that every distribution is ordered and positive, and
// that the parts do not exceed the whole.
func checkDists(t *testing.T, all map[string]Dist, added, total, gateway Dist) {
	t.Helper()
	for name, d := range all {
		if !(d.P50 <= d.P90 && d.P90 <= d.P99 && d.P99 <= d.Max) || d.P50 <= 0 || d.Mean <= 0 || d.Mean > d.Max {
			t.Errorf("%s: %+v is not ordered", name, d)
		}
	}
	if added.Max > total.Max || added.P50 > total.P50 || gateway.Max > total.Max {
		t.Errorf("added %+v, gateway %+v, total %+v: parts exceed the whole", added, gateway, total)
	}
}

func checkRun(t *testing.T, wall time.Duration, perSecond float64, m Machine, dbVersion string) {
	t.Helper()
	if wall <= 0 || perSecond <= 0 || m.CPUs <= 0 || m.Go == "" || dbVersion == "" {
		t.Errorf("wall %s, %.1f/s, machine %+v, database %q", wall, perSecond, m, dbVersion)
	}
}

// checkJSON checks the report's JSON: the count under countKey, a rate
// under rateKey, and the distributions in milliseconds.
func checkJSON(t *testing.T, rep any, countKey, rateKey string) {
	t.Helper()
	b, back := marshalToMap(t, rep)
	if back[countKey] != float64(collectionTestN) || back["verified"] != float64(collectionTestN) || back["errors"] != float64(0) {
		t.Fatalf("JSON %s", b)
	}
	if r, _ := back[rateKey].(float64); r <= 0 {
		t.Errorf("JSON %s = %v", rateKey, back[rateKey])
	}
	added, _ := back["added"].(map[string]any)
	if p50, _ := added["p50_ms"].(float64); p50 <= 0 {
		t.Errorf("JSON added: %v", back["added"])
	}
}

// inspectRegistrations looks at the simulator and the store: one unpaid
// collection per measured order, and its one payment pending.
func inspectRegistrations(t *testing.T, ctx context.Context, in *Inspection) {
	t.Helper()
	perOrder := map[string]int{}
	for _, c := range in.Sim.Collections(in.MerchantID, "test") {
		if c.Status != simUnpaid || c.Amount != DefaultAmount {
			t.Errorf("simulator collection %s of order %s: %s, %d yen", c.ProcessID, c.MerchantFree2, c.Status, c.Amount)
		}
		perOrder[c.MerchantFree2]++
	}
	for _, c := range in.Orders {
		if perOrder[c.OrderID] != 1 {
			t.Errorf("order %s: %d simulator collections, want 1", c.OrderID, perOrder[c.OrderID])
		}
		checkStorePayment(t, ctx, in, c, kessai.PaymentPending)
	}
}

// inspectPaid looks at the simulator and the store after the
// notifications: every collection paid at the simulator, and each measured
// order's one payment paid.
func inspectPaid(t *testing.T, ctx context.Context, in *Inspection) {
	t.Helper()
	for _, c := range in.Sim.Collections(in.MerchantID, "test") {
		if c.Status != simPaid {
			t.Errorf("simulator collection %s of order %s: %s", c.ProcessID, c.MerchantFree2, c.Status)
		}
	}
	for _, c := range in.Orders {
		checkStorePayment(t, ctx, in, c, kessai.PaymentPaid)
	}
}

func checkStorePayment(t *testing.T, ctx context.Context, in *Inspection, c Checkout, state kessai.PaymentState) {
	t.Helper()
	ps, err := in.Store.ListPayments(ctx, in.ShopID, c.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].ID != c.PaymentID || ps[0].State != state || ps[0].Method != kessai.MethodCollection {
		t.Errorf("order %s: payments %+v, want %s, a collection %s", c.OrderID, ps, c.PaymentID, state)
	}
}
