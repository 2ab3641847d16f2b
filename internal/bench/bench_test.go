package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/pgtest"
)

// TestRunCard runs a small benchmark on each database and checks that the
// report adds up and that every measured checkout really charged once.
// Timings are not judged: the machine may be busy.
func TestRunCard(t *testing.T) {
	const n = 30
	for _, db := range []string{SQLite, Postgres} {
		t.Run(db, func(t *testing.T) {
			o := testOptions(t, db, n)
			rep, seen := runInspected(t, o, inspect, RunCard)
			checkReport(t, rep, seen, n)
			if rep.Analyzed != (db == Postgres) {
				t.Errorf("analyzed %v on %s", rep.Analyzed, db)
			}
		})
	}
}

// testOptions are the tests' options for n operations on db, four at a
// time; they skip the test when PostgreSQL is unreachable.
func testOptions(t *testing.T, db string, n int) Options {
	t.Helper()
	o := Options{DB: db, N: n, Concurrency: 4}
	if db == Postgres {
		_, base := pgtest.Admin(t) // skips when no server answers
		o.DatabaseURL = base
	}
	return o
}

// runInspected runs a benchmark (run) with o and inspect as
// Options.Inspect, failing the test on an error, and returns the report
// and the measured calls Inspect saw.
func runInspected[R any](t *testing.T, o Options, inspect func(*testing.T, context.Context, *Inspection),
	run func(context.Context, Options) (R, error)) (R, []Checkout) {
	t.Helper()
	var seen []Checkout
	o.Inspect = func(ctx context.Context, in *Inspection) error {
		seen = in.Orders
		inspect(t, ctx, in)
		return nil
	}
	rep, err := run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	return rep, seen
}

// marshalToMap returns rep's JSON and the object it decodes to, for
// checking the report's keys.
func marshalToMap(t *testing.T, rep any) ([]byte, map[string]any) {
	t.Helper()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	return b, got
}

// checkTable prints rep's table, checks that it has each of wants and
// logs it.
func checkTable(t *testing.T, rep interface{ WriteTable(io.Writer) error }, wants ...string) {
	t.Helper()
	var out bytes.Buffer
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range wants {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}

// TestRunCardLatency checks that the simulator's latency is counted as
// the gateway's time, not kessai's.
func TestRunCardLatency(t *testing.T) {
	const latency = 20 * time.Millisecond
	var seen []Checkout
	rep, err := RunCard(t.Context(), Options{N: 8, Concurrency: 8, Latency: latency, NoJobs: true,
		Inspect: func(_ context.Context, in *Inspection) error { seen = in.Orders; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, seen, 8)
	for _, c := range seen {
		// Each call waits the latency at the simulator, inside the
		// client's measured round trip.
		if min := time.Duration(c.GatewayCalls) * latency; c.Gateway < min {
			t.Errorf("order %s: gateway %s for %d calls, want at least %s", c.OrderID, c.Gateway, c.GatewayCalls, min)
		}
	}
}

func checkReport(t *testing.T, rep *Report, seen []Checkout, n int) {
	t.Helper()
	if rep.Checkouts != n || rep.Errors != 0 || rep.Verified != n || len(seen) != n {
		t.Fatalf("checkouts %d, errors %d, verified %d, inspected %d; want %d, 0, %d, %d",
			rep.Checkouts, rep.Errors, rep.Verified, len(seen), n, n, n)
	}
	ids := map[string]bool{}
	var calls int64
	for _, c := range seen {
		if ids[c.OrderID] {
			t.Errorf("order %s measured twice", c.OrderID)
		}
		ids[c.OrderID] = true
		if c.Gateway <= 0 || c.Gateway > c.Handler || c.Handler > c.Total {
			t.Errorf("order %s: gateway %s, handler %s, total %s: want 0 < gateway ≤ handler ≤ total",
				c.OrderID, c.Gateway, c.Handler, c.Total)
		}
		// A guest token checkout is a token check and a 1Gathering.
		if c.GatewayCalls != 2 {
			t.Errorf("order %s: %d gateway calls, want 2", c.OrderID, c.GatewayCalls)
		}
		calls += int64(c.GatewayCalls)
	}
	if rep.GatewayCalls != calls {
		t.Errorf("the gateway client counted %d calls, the probes %d", rep.GatewayCalls, calls)
	}
	for name, d := range map[string]Dist{"added": rep.Added, "total": rep.Total, "gateway": rep.Gateway,
		"create order": rep.CreateOrder} {
		if !(d.P50 <= d.P90 && d.P90 <= d.P99 && d.P99 <= d.Max) || d.P50 <= 0 {
			t.Errorf("%s: %+v is not ordered", name, d)
		}
	}
	if rep.Added.Max > rep.Total.Max || rep.Added.P50 > rep.Total.P50 || rep.Gateway.Max > rep.Total.Max {
		t.Errorf("added %+v, gateway %+v, total %+v: parts exceed the whole", rep.Added, rep.Gateway, rep.Total)
	}
	if rep.Wall <= 0 || rep.PerSecond <= 0 || rep.Machine.CPUs <= 0 || rep.Machine.Go == "" || rep.DBVersion == "" {
		t.Errorf("report %+v", rep)
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "added (total − gateway)") {
		t.Errorf("table (%v):\n%s", err, table.String())
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil || back["checkouts"] != float64(n) || back["added"] == nil {
		t.Errorf("JSON (%v): %s", err, b)
	}
}

// inspect looks at the simulator and the store independently of RunCard's
// own checks: one captured charge per measured order, nothing more.
func inspect(t *testing.T, ctx context.Context, in *Inspection) {
	t.Helper()
	perOrder := map[string]int{}
	for _, tx := range in.Sim.Transactions(in.MerchantID, "test") {
		if tx.Status != "CAPTURED" || tx.Amount != DefaultAmount {
			t.Errorf("simulator transaction %s of order %s: %s, %d yen", tx.ProcessID, tx.MerchantFree2, tx.Status, tx.Amount)
		}
		perOrder[tx.MerchantFree2]++
	}
	for _, c := range in.Orders {
		if perOrder[c.OrderID] != 1 {
			t.Errorf("order %s: %d simulator transactions, want 1", c.OrderID, perOrder[c.OrderID])
		}
		ps, err := in.Store.ListPayments(ctx, in.ShopID, c.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || ps[0].ID != c.PaymentID || ps[0].State != kessai.PaymentCaptured {
			t.Errorf("order %s: payments %+v, want %s captured", c.OrderID, ps, c.PaymentID)
		}
	}
}

// TestAPIReportJSONKeys pins the keys of the card and collection reports'
// JSON and their order, which APIReport.marshalJSON writes for both: the
// count, the rate and the CPU per operation are named after it, and
// error_samples is left out when there are none.
func TestAPIReportJSONKeys(t *testing.T) {
	keys := func(rep any) string {
		t.Helper()
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		if _, err := dec.Token(); err != nil { // {
			t.Fatal(err)
		}
		var names []string
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, k.(string))
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
		return strings.Join(names, " ")
	}
	const head = "db db_version sim_latency_ms sim_jitter_ms n concurrency warmup job_runner idempotency_key analyzed"
	const tail = "added total gateway handler_added create_order gateway_calls gateway_new_connections machine"
	failed := APIReport{Errors: 1, ErrorSamples: []string{"boom"}, CPU: time.Second, Wall: time.Second}
	for _, c := range []struct {
		rep  any
		want string
	}{
		{&Report{Checkouts: 2, APIReport: failed},
			head + " checkouts errors error_samples verified wall_ms checkouts_per_second cpu_ms_per_checkout " + tail},
		{&Report{},
			head + " checkouts errors verified wall_ms checkouts_per_second cpu_ms_per_checkout " + tail},
		{&CollectionReport{Registrations: 2, APIReport: failed},
			head + " registrations errors error_samples verified wall_ms registrations_per_second cpu_ms_per_registration " + tail},
	} {
		if got := keys(c.rep); got != c.want {
			t.Errorf("%T keys\n%s\nwant\n%s", c.rep, got, c.want)
		}
	}
	var back map[string]any
	b, _ := json.Marshal(&Report{Checkouts: 2, APIReport: failed})
	if err := json.Unmarshal(b, &back); err != nil || back["cpu_ms_per_checkout"] != 500.0 || back["checkouts"] != 2.0 {
		t.Errorf("JSON (%v): %s", err, b)
	}
}
