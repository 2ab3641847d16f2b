package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is the outcome of a run. Durations are per /pay call unless said
// otherwise.
type Report struct {
	DB             string
	DBVersion      string
	Latency        time.Duration // added by the simulator to each gateway call
	Jitter         time.Duration // plus up to this much more
	N              int           // checkouts asked for
	Concurrency    int
	Warmup         int
	Jobs           bool // the job runner was running
	IdempotencyKey bool // requests carried an Idempotency-Key
	Analyzed       bool // the PostgreSQL schema was analysed after the warm-up

	// Checkouts completed and checked; Errors failed (must be 0).
	Checkouts    int
	Errors       int
	ErrorSamples []string
	// Verified is how many completed checkouts were found charged exactly
	// once at the simulator and captured in the store.
	Verified int

	// Wall is the measured phase's duration; PerSecond is Checkouts/Wall,
	// each checkout being an order creation, a token and a /pay call.
	Wall      time.Duration
	PerSecond float64
	// CPU is the CPU time this process used in the measured phase: kessai,
	// the simulator and the shop-side client together (PostgreSQL's own
	// processes not included). Unlike wall times it hardly depends on
	// what else the machine runs, so CPU per checkout bounds the
	// throughput: NumCPU / (CPU / Checkouts).
	CPU time.Duration

	// Added is Total minus Gateway: what kessai adds, as the shop sees it
	// (loopback hop and HTTP client included). Total is the /pay call's
	// wall time at the client, Gateway the sum of its gateway round trips.
	Added, Total, Gateway Dist
	// HandlerAdded is the handler's time minus Gateway: kessai's own work
	// without the shop-side HTTP hop and the client's scheduling.
	HandlerAdded Dist
	// CreateOrder is the POST /v1/orders before each /pay.
	CreateOrder Dist
	// GatewayCalls and GatewayNewConns count the card client's calls and
	// newly opened connections during the measured phase.
	GatewayCalls    int64
	GatewayNewConns int64

	Machine Machine
}

// Dist summarises a set of durations; percentiles are nearest-rank.
type Dist struct {
	P50, P90, P99, Max, Mean time.Duration
}

// MarshalJSON writes milliseconds, which is what the figures are read in.
func (d Dist) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]float64{"p50_ms": ms(d.P50), "p90_ms": ms(d.P90), "p99_ms": ms(d.P99),
		"max_ms": ms(d.Max), "mean_ms": ms(d.Mean)})
}

// MarshalJSON writes durations in milliseconds and snake_case names.
func (r *Report) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		DB              string   `json:"db"`
		DBVersion       string   `json:"db_version"`
		LatencyMS       float64  `json:"sim_latency_ms"`
		JitterMS        float64  `json:"sim_jitter_ms"`
		N               int      `json:"n"`
		Concurrency     int      `json:"concurrency"`
		Warmup          int      `json:"warmup"`
		Jobs            bool     `json:"job_runner"`
		IdempotencyKey  bool     `json:"idempotency_key"`
		Analyzed        bool     `json:"analyzed"`
		Checkouts       int      `json:"checkouts"`
		Errors          int      `json:"errors"`
		ErrorSamples    []string `json:"error_samples,omitempty"`
		Verified        int      `json:"verified"`
		WallMS          float64  `json:"wall_ms"`
		PerSecond       float64  `json:"checkouts_per_second"`
		CPUPerCheckout  float64  `json:"cpu_ms_per_checkout"`
		Added           Dist     `json:"added"`
		Total           Dist     `json:"total"`
		Gateway         Dist     `json:"gateway"`
		HandlerAdded    Dist     `json:"handler_added"`
		CreateOrder     Dist     `json:"create_order"`
		GatewayCalls    int64    `json:"gateway_calls"`
		GatewayNewConns int64    `json:"gateway_new_connections"`
		Machine         Machine  `json:"machine"`
	}{r.DB, r.DBVersion, ms(r.Latency), ms(r.Jitter), r.N, r.Concurrency, r.Warmup, r.Jobs, r.IdempotencyKey, r.Analyzed, r.Checkouts,
		r.Errors, r.ErrorSamples, r.Verified, ms(r.Wall), r.PerSecond, ms(r.CPUPerCheckout()), r.Added, r.Total, r.Gateway, r.HandlerAdded,
		r.CreateOrder, r.GatewayCalls, r.GatewayNewConns, r.Machine})
}

// CPUPerCheckout is CPU divided by the completed checkouts.
func (r *Report) CPUPerCheckout() time.Duration {
	if r.Checkouts == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Checkouts)
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// fill computes the figures of the measured checkouts.
func (r *Report) fill(done []Checkout, errs *errorLog) {
	r.Checkouts, r.Errors, r.ErrorSamples = len(done), errs.count, errs.samples
	if r.Wall > 0 {
		r.PerSecond = float64(len(done)) / r.Wall.Seconds()
	}
	pick := func(f func(Checkout) time.Duration) Dist {
		v := make([]time.Duration, len(done))
		for i, c := range done {
			v[i] = f(c)
		}
		return summarise(v)
	}
	r.Added = pick(Checkout.Added)
	r.Total = pick(func(c Checkout) time.Duration { return c.Total })
	r.Gateway = pick(func(c Checkout) time.Duration { return c.Gateway })
	r.HandlerAdded = pick(func(c Checkout) time.Duration { return c.Handler - c.Gateway })
	r.CreateOrder = pick(func(c Checkout) time.Duration { return c.CreateOrder })
}

func summarise(v []time.Duration) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	slices.Sort(v)
	var sum time.Duration
	for _, d := range v {
		sum += d
	}
	return Dist{P50: percentile(v, 0.50), P90: percentile(v, 0.90), P99: percentile(v, 0.99), Max: v[len(v)-1],
		Mean: sum / time.Duration(len(v))}
}

// percentile is the nearest-rank percentile of sorted v: the smallest
// value with at least p of the values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Machine describes where a run took place.
type Machine struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	Go       string `json:"go"`
	// LoadAvg is /proc/loadavg's 1, 5 and 15 minute averages at the
	// start and the end of the measured phase: the machine may be shared.
	LoadAvgBefore string `json:"loadavg_before,omitempty"`
	LoadAvgAfter  string `json:"loadavg_after,omitempty"`
}

// CurrentMachine describes this machine.
func CurrentMachine() Machine {
	return Machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Go: runtime.Version(), LoadAvgBefore: loadAvg()}
}

// cpuModel reads the first "model name" of /proc/cpuinfo ("" elsewhere).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// WriteTable prints the report for people.
func (r *Report) WriteTable(w io.Writer) error {
	m := r.Machine
	jobs := "on"
	if !r.Jobs {
		jobs = "off"
	}
	idem := "yes"
	if !r.IdempotencyKey {
		idem = "no"
	}
	lat := r.Latency.String()
	if r.Jitter > 0 {
		lat += " + [0, " + r.Jitter.String() + ")"
	}
	fmt.Fprintf(w, "card checkout through the API: %s (%s), simulator latency %s\n", r.DB, r.DBVersion, lat)
	analyzed := ""
	if r.Analyzed {
		analyzed = ", ANALYZE after the warm-up"
	}
	fmt.Fprintf(w, "  %d checkouts, concurrency %d, warm-up %d, job runner %s, Idempotency-Key %s%s\n", r.N, r.Concurrency, r.Warmup, jobs, idem, analyzed)
	fmt.Fprintf(w, "  machine: %d CPUs, %s, %s/%s, %s, load %s → %s\n\n", m.CPUs, m.CPUModel, m.OS, m.Arch, m.Go, m.LoadAvgBefore, m.LoadAvgAfter)
	fmt.Fprintf(w, "  %-24s %8s %8s %8s %8s %8s\n", "ms", "p50", "p90", "p99", "max", "mean")
	for _, row := range []struct {
		name string
		d    Dist
	}{
		{"added (total − gateway)", r.Added},
		{"total /pay", r.Total},
		{"gateway", r.Gateway},
		{"added in handler", r.HandlerAdded},
		{"create order", r.CreateOrder},
	} {
		d := row.d
		// %-24s counts bytes; pad by runes so "−" does not shift the row.
		pad := strings.Repeat(" ", max(0, 24-utf8.RuneCountInString(row.name)))
		fmt.Fprintf(w, "  %s%s %8.2f %8.2f %8.2f %8.2f %8.2f\n", row.name, pad, ms(d.P50), ms(d.P90), ms(d.P99), ms(d.Max), ms(d.Mean))
	}
	perCall := 0.0
	if r.Checkouts > 0 {
		perCall = float64(r.GatewayCalls) / float64(r.Checkouts)
	}
	fmt.Fprintf(w, "\n  checkouts/s: %.0f  (%d in %s)\n", r.PerSecond, r.Checkouts, r.Wall.Round(time.Millisecond))
	if c := r.CPUPerCheckout(); c > 0 {
		fmt.Fprintf(w, "  CPU of this process: %.2f ms per checkout (kessai, simulator and client; at most %.0f checkouts/s on %d CPUs)\n",
			ms(c), float64(r.Machine.CPUs)/c.Seconds(), r.Machine.CPUs)
	}
	fmt.Fprintf(w, "  gateway calls: %d (%.1f per checkout), new gateway connections: %d\n", r.GatewayCalls, perCall, r.GatewayNewConns)
	fmt.Fprintf(w, "  errors: %d, verified at the simulator and in the store: %d\n", r.Errors, r.Verified)
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(w, "    %s\n", s)
	}
	_, err := fmt.Fprintln(w)
	return err
}
