package chaostest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai/internal/pgtest"
	"github.com/kessai/kessai/webhook"
)

// TestChaos is the suite (see the package comment and docs/chaos.md).
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos suite starts and kills processes; not with -short")
	}
	sz := chaosSize(t)
	// The two databases run side by side: each has its own simulator,
	// kessai and ports, and most of a run is waiting (held gateway calls,
	// restarts, the stale period).
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		runChaos(t, sz, "")
	})
	if os.Getenv("KESSAI_CHAOS_PG") != "0" {
		t.Run("postgres", func(t *testing.T) {
			t.Parallel()
			runChaos(t, sz, pgtest.FreshSchema(t))
		})
	}
}

// baseSettings: checkouts authorise (1Auth) and renewals capture
// (1Gathering), so that a fault aimed at one OperateId hits one step;
// cards are saved only when asked; 3-D Secure is switched per phase.
var baseSettings = map[string]any{"card": map[string]any{"operation": "1Auth", "subscription_operation": "1Gathering",
	"always_register": false, "three_ds": false}}

// fault is a simulator fault in the control API's form.
type fault map[string]any

func (c *cluster) addFault(ctx context.Context, f fault) string {
	c.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if _, err := c.simCall(ctx, "POST", "/_sim/faults", f, &out); err != nil {
		c.t.Fatal(err)
	}
	return out.ID
}

// faultUsed reports whether a fault with Times 1 has been applied: the
// simulator removes it when its count runs out.
func (c *cluster) faultUsed(ctx context.Context, id string) bool {
	var out struct {
		Faults []struct {
			ID string `json:"id"`
		} `json:"faults"`
	}
	if _, err := c.simCall(ctx, "GET", "/_sim/faults", nil, &out); err != nil {
		c.t.Fatal(err)
	}
	for _, f := range out.Faults {
		if f.ID == id {
			return false
		}
	}
	return true
}

// stepSpec is one step of the payment flows that a kill is aimed at.
type stepSpec struct {
	name string
	// op is the OperateId the gateway is busy with during the step.
	op string
	// threeDS switches 3-D Secure on for the step.
	threeDS bool
	// flow is one shop journey that goes through the step.
	flow func(s *shop, ctx context.Context, ref string) error
	// trigger, when set, runs once the flows are done and makes the
	// step happen (the renewal scan).
	trigger func(c *cluster)
}

var steps = []stepSpec{
	{name: "card checkout", op: "1Auth",
		flow: func(s *shop, ctx context.Context, ref string) error {
			return s.cardCheckout(ctx, ref, approvingCards[rand.IntN(len(approvingCards))])
		}},
	{name: "3-D Secure return", op: "1Auth", threeDS: true,
		flow: func(s *shop, ctx context.Context, ref string) error {
			return s.cardCheckout(ctx, ref, "4000000000003006")
		}},
	{name: "collection registration", op: "2Add",
		flow: func(s *shop, ctx context.Context, ref string) error { return s.collectionCheckout(ctx, ref, false) }},
	{name: "notification handling", op: "2Ref",
		flow: func(s *shop, ctx context.Context, ref string) error { return s.collectionCheckout(ctx, ref, true) }},
	// The first charge of a subscription starting now is a renewal: the
	// renewal scan (on start, then every 30 s) wakes it. A clean restart
	// runs the scan at once.
	{name: "renewal", op: "1Gathering",
		flow:    func(s *shop, ctx context.Context, ref string) error { return s.subscribe(ctx, ref) },
		trigger: func(c *cluster) { c.restart() }},
}

// stepKill is one step and one variant.
type stepKill struct {
	step  stepSpec
	after bool
}

// stepOrder runs each step's two variants; the renewal's come first and
// last. A renewal needs River's leader (the renewal scan), and after a
// SIGKILL of the leader its lease must expire first (about 15 s): the
// other steps, which need no leader, run meanwhile.
func stepOrder() []stepKill {
	var renewal stepSpec
	var out []stepKill
	for _, st := range steps {
		if st.trigger != nil {
			renewal = st
			continue
		}
		out = append(out, stepKill{st, false}, stepKill{st, true})
	}
	return append(append([]stepKill{{renewal, true}}, out...), stepKill{renewal, false})
}

// stepHold is how long the aimed-at call stays at the gateway: long
// enough for the test to see the fault taken and kill kessai inside it.
const stepHold = 4 * time.Second

// run is one run of the suite on one database.
type run struct {
	t    *testing.T
	c    *cluster
	s    *shop
	led  *ledger
	sz   size
	hook *receiver

	cancel   context.CancelFunc
	stuck    []string // River jobs stuck "running" at the end
	lastKill time.Time
	kills    []string
	phases   []string
}

func (r *run) phase(name string, start time.Time) {
	r.phases = append(r.phases, fmt.Sprintf("%-32s %6.1f s", name, time.Since(start).Seconds()))
}

func runChaos(t *testing.T, sz size, dbURL string) {
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c := newCluster(t, dbURL)
	led := newLedger()
	r := &run{t: t, c: c, s: &shop{c: c, led: led}, led: led, sz: sz, cancel: cancel}
	r.phase("start (simulator, kessai)", begin)
	r.hook = startReceiver(t, c, ctx)
	if err := r.s.settings(ctx, baseSettings); err != nil {
		t.Fatal(err)
	}

	t0 := time.Now()
	for _, k := range stepOrder() {
		r.step(ctx, k.step, k.after)
	}
	r.phase(fmt.Sprintf("kills inside steps (%d)", 2*len(steps)), t0)

	t0 = time.Now()
	r.load(ctx)
	r.phase(fmt.Sprintf("load with faults, %d kills", sz.Kills), t0)

	t0 = time.Now()
	snap, v := r.settle(ctx)
	r.phase("recovery and invariants", t0)

	t0 = time.Now()
	findings := r.leakScan(ctx, snap)
	r.phase("leak scan", t0)

	t0 = time.Now()
	c.audit.finish(t)
	r.phase("API answers against the OpenAPI document", t0)

	r.report(snap, v, findings, time.Since(begin))
	for _, msg := range v.violations {
		t.Errorf("invariant: %s%s", msg, r.explain(ctx, msg))
	}
	c.audit.mu.Lock()
	for _, p := range c.audit.problems {
		t.Errorf("API answer: %s", p)
	}
	c.audit.mu.Unlock()
	for _, f := range findings {
		t.Errorf("leak: %s", f)
	}
}

// step kills kessai inside one step: before, the call waits at the
// gateway (latency) and dies with the process, nothing done; after, the
// gateway performs it and holds the answer back (a timeout after the
// operation), and kessai dies before it arrives. Several flows of the
// step run at once; the fault meets one of them.
func (r *run) step(ctx context.Context, st stepSpec, after bool) {
	c, t := r.c, r.t
	began := time.Now()
	variant := "before the gateway acts"
	f := fault{"op": st.op, "kind": "latency", "latency": stepHold.String(), "times": 1}
	if after {
		variant = "after the gateway acted"
		f = fault{"op": st.op, "kind": "timeout", "after": true, "hold": stepHold.String(), "times": 1}
	}
	if st.threeDS {
		if err := r.s.settings(ctx, map[string]any{"card": map[string]any{"three_ds": true}}); err != nil {
			t.Fatal(err)
		}
	}
	id := c.addFault(ctx, f)
	var wg sync.WaitGroup
	for i := range r.sz.StepFlows {
		ref := fmt.Sprintf("S-%s-%v-%d-%d", strings.ReplaceAll(st.name, " ", ""), after, i, rand.IntN(1e6))
		wg.Go(func() {
			if err := st.flow(r.s, ctx, ref); err != nil {
				t.Errorf("step %s (%s), flow %s: %v", st.name, variant, ref, err)
			}
		})
	}
	if st.trigger != nil {
		wg.Wait()
		st.trigger(c)
	}
	deadline := time.Now().Add(45 * time.Second)
	for !c.faultUsed(ctx, id) {
		if time.Now().After(deadline) {
			t.Errorf("step %s (%s): no %s call met the fault in 45 s", st.name, variant, st.op)
			_, _ = c.simCall(ctx, "DELETE", "/_sim/faults/"+id, nil, nil)
			wg.Wait()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The call is at the gateway now, held for stepHold: kill inside it.
	time.Sleep(300 * time.Millisecond)
	hit := time.Since(began)
	c.kill(ctx)
	r.lastKill = time.Now()
	c.startKessai()
	wg.Wait()
	r.kills = append(r.kills, fmt.Sprintf("%s, %s (%s): killed %.1f s in, step done in %.1f s", st.name, variant, st.op,
		hit.Seconds(), time.Since(began).Seconds()))
	if st.threeDS {
		if err := r.s.settings(ctx, map[string]any{"card": map[string]any{"three_ds": false}}); err != nil {
			t.Fatal(err)
		}
	}
}

// loadFaults are the gateway's misbehaviours during the load phase, each
// on 1–5 % of the calls of every operation. Errors are answered before
// the operation (an honest refusal); timeouts, resets and empty bodies
// both before and after it (the lost answers kessai must not guess).
var loadFaults = []fault{
	{"kind": "latency", "latency": "100ms", "jitter": "400ms", "probability": 0.05},
	{"kind": "timeout", "hold": "1s", "probability": 0.02},
	{"kind": "timeout", "hold": "1s", "after": true, "probability": 0.02},
	{"kind": "reset", "probability": 0.02},
	{"kind": "reset", "after": true, "probability": 0.02},
	{"kind": "empty_body", "probability": 0.01},
	{"kind": "empty_body", "after": true, "probability": 0.01},
	{"kind": "response_code", "response_cd": "C02", "probability": 0.02},
	{"kind": "response_code", "response_cd": "G12", "probability": 0.01},
	{"kind": "duplicate_notification", "probability": 0.05},
}

// load runs the random journeys with faults on, kills kessai at random
// moments, and switches 3-D Secure on half way.
func (r *run) load(ctx context.Context) {
	c, t := r.c, r.t
	for _, f := range loadFaults {
		c.addFault(ctx, f)
	}
	refs := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	half := make(chan struct{})
	for range r.sz.Workers {
		wg.Go(func() {
			for ref := range refs {
				if err := r.s.randomJourney(ctx, ref); err != nil {
					t.Errorf("journey %s: %v", ref, err)
				}
				mu.Lock()
				done++
				if done == r.sz.Journeys/2 {
					close(half)
				}
				mu.Unlock()
			}
		})
	}
	killsDone := make(chan struct{})
	go func() {
		defer close(killsDone)
		for i := range r.sz.Kills {
			time.Sleep(time.Duration(1500+rand.IntN(1500)) * time.Millisecond)
			c.kill(ctx)
			r.lastKill = time.Now()
			r.kills = append(r.kills, fmt.Sprintf("random kill %d under load", i+1))
			if err := c.start(); err != nil {
				// Nothing can go on without kessai: end the journeys.
				t.Errorf("restart after random kill %d: %v", i+1, err)
				r.cancel()
				return
			}
		}
	}()
	allDone := make(chan struct{})
	var toggle sync.WaitGroup
	toggle.Go(func() {
		select {
		case <-half:
		case <-allDone:
			return
		}
		if err := r.s.settings(ctx, map[string]any{"card": map[string]any{"three_ds": true}}); err != nil {
			t.Errorf("switching 3-D Secure on: %v", err)
		}
	})
	for i := range r.sz.Journeys {
		refs <- fmt.Sprintf("L-%d-%d", i, rand.IntN(1e6))
	}
	close(refs)
	wg.Wait()
	close(allDone)
	<-killsDone
	toggle.Wait()
	if _, err := c.simCall(ctx, "DELETE", "/_sim/faults", nil, nil); err != nil {
		t.Fatal(err)
	}
}

// settle lets recovery run and checks the invariants until they hold or
// a minute passes. Recovery marks an attempt unknown once it is older
// than the stale period; it runs when a process becomes River's leader
// and every minute. A clean restart makes the new process leader at
// once, so the suite waits out the stale period after the last kill and
// restarts; it then makes the simulator send every pending payment
// notification (retries of those a killed kessai never answered).
func (r *run) settle(ctx context.Context) (*snapshot, *verdict) {
	c := r.c
	if wait := time.Until(r.lastKill.Add(c.stale + time.Second)); wait > 0 {
		time.Sleep(wait)
	}
	stuck := c.stuckJobs(ctx)
	c.restart()
	deadline := time.Now().Add(90 * time.Second)
	if len(stuck) > 0 {
		// A kill landed inside a maintenance job after all (the check
		// before a kill and the kill are not atomic): recovery waits for
		// River's rescuer. Slow, but the invariants must still hold.
		r.t.Logf("River jobs left running by killed processes, blocking their next runs until rescued (5 min): %v", stuck)
		r.stuck = stuck
		deadline = time.Now().Add(7 * time.Minute)
	}
	var snap *snapshot
	var v *verdict
	for {
		if _, err := c.simCall(ctx, "POST", "/_sim/notifications/flush", nil, nil); err != nil {
			r.t.Logf("flush: %v", err)
		}
		var err error
		snap, err = c.takeSnapshot(ctx)
		if err != nil {
			r.t.Fatal(err)
		}
		v = snap.check(r.led)
		if len(v.violations) == 0 || time.Now().After(deadline) {
			return snap, v
		}
		time.Sleep(2 * time.Second)
	}
}

var idRE = regexp.MustCompile(`\b(?:ord|pay|att)_[0-9a-z]{26}\b`)

// explain gathers what the logs say about the ids a violation names: the
// lines of every kessai process and of the simulator that mention them,
// and the simulator's notifications for the orders.
func (r *run) explain(ctx context.Context, msg string) string {
	ids := idRE.FindAllString(msg, -1)
	if len(ids) == 0 {
		return ""
	}
	var b strings.Builder
	logs, _ := filepath.Glob(filepath.Join(r.c.logDir, "*.err"))
	for _, p := range logs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			for _, id := range ids {
				if strings.Contains(line, id) {
					fmt.Fprintf(&b, "\n    %s: %s", filepath.Base(p), truncate([]byte(line), 600))
					break
				}
			}
		}
	}
	var notes []struct {
		Fields     map[string]string `json:"fields"`
		Attempts   int               `json:"attempts"`
		LastStatus string            `json:"last_status"`
		Delivered  bool              `json:"delivered"`
		Pending    bool              `json:"pending"`
		Duplicate  bool              `json:"duplicate"`
	}
	if _, err := r.c.simCall(ctx, "GET", "/_sim/notifications", nil, &notes); err == nil {
		for _, n := range notes {
			for _, id := range ids {
				if n.Fields["MerchantFree2"] == id {
					fmt.Fprintf(&b, "\n    notification: %+v", n)
				}
			}
		}
	}
	return b.String()
}

// receiver is the shop's webhook endpoint, on loopback (the API allows
// http for localhost): it verifies each delivery and keeps its body for
// the leak scan.
type receiver struct {
	mu       sync.Mutex
	secret   []byte
	events   map[string]int
	bad      int
	payloads *os.File
}

func startReceiver(t *testing.T, c *cluster, ctx context.Context) *receiver {
	f, err := os.Create(filepath.Join(c.logDir, "webhooks.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{events: map[string]int{}, payloads: f}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		fmt.Fprintf(rc.payloads, "%s %s\n%s\n", req.Header.Get("Kessai-Signature"), req.Header.Get("Content-Type"), body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		ev, err := webhook.ParseEvent(req, [][]byte{rc.secret}, 10*time.Minute)
		if err != nil {
			rc.bad++
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.events[ev.Type]++
	}))
	t.Cleanup(func() { srv.Close(); f.Close() })
	var ep struct {
		Secret string `json:"secret"`
	}
	c.must(ctx, "POST /v1/webhook_endpoints", "POST", "/v1/webhook_endpoints", map[string]any{"url": srv.URL + "/kessai/webhook"},
		"endpoint-1", http.StatusCreated, &ep)
	rc.mu.Lock()
	rc.secret = []byte(ep.Secret)
	rc.mu.Unlock()
	return rc
}

// report logs what the run did and saw.
func (r *run) report(snap *snapshot, v *verdict, findings []leakFinding, took time.Duration) {
	var b strings.Builder
	fmt.Fprintf(&b, "chaos run: %d journeys, %d kills in all, %v\n", r.sz.Journeys, len(r.kills), took.Round(time.Second))
	fmt.Fprintf(&b, "phases:\n")
	for _, p := range r.phases {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	fmt.Fprintf(&b, "kills:\n")
	for _, k := range r.kills {
		fmt.Fprintf(&b, "  %s\n", k)
	}
	r.c.mu.Lock()
	fmt.Fprintf(&b, "kills put off while a River maintenance job ran: %d\n", r.c.deferred)
	r.c.mu.Unlock()
	if len(r.stuck) > 0 {
		fmt.Fprintf(&b, "River jobs left running by a killed process (recovery waited for their rescue): %v\n", r.stuck)
	}
	fmt.Fprintf(&b, "journey outcomes:\n%s", sortedCounts(r.led.outcomes))
	r.led.mu.Lock()
	fmt.Fprintf(&b, "requests whose Idempotency-Key stayed in progress after a kill: %d\n", len(r.led.stuck))
	fmt.Fprintf(&b, "tokens issued: %d, cards used: %d\n", len(r.led.tokens), len(r.led.cards))
	r.led.mu.Unlock()
	fmt.Fprintf(&b, "state after recovery:\n%s", sortedCounts(v.stats))
	r.hook.mu.Lock()
	fmt.Fprintf(&b, "webhooks received (verified):\n%s", sortedCounts(r.hook.events))
	fmt.Fprintf(&b, "  bad signatures: %d\n", r.hook.bad)
	r.hook.mu.Unlock()
	fmt.Fprintf(&b, "API answers (operation → status code):\n%s", r.c.audit.report())
	fmt.Fprintf(&b, "invariant violations: %d, undocumented API answers: %d, leak findings: %d\n",
		len(v.violations), len(r.c.audit.problems), len(findings))
	r.t.Log(b.String())
	if p := os.Getenv("KESSAI_CHAOS_REPORT"); p != "" {
		_ = os.WriteFile(p, []byte(b.String()), 0o644)
	}
}

func sortedCounts[K comparable](m map[K]int) string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range m {
		list = append(list, kv{fmt.Sprint(k), v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].k < list[j].k })
	var b strings.Builder
	for _, e := range list {
		fmt.Fprintf(&b, "  %5d  %s\n", e.v, e.k)
	}
	return b.String()
}
