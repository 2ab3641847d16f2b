package bench

import (
	"bufio"
	"bytes"
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

// Report is the outcome of RunCard. Durations are per /pay call unless
// said otherwise. An operation of APIReport is a checkout (an order
// creation, a token and a /pay call), and Verified counts the checkouts
// found charged exactly once at the simulator and captured in the store.
type Report struct {
	APIReport
	// Checkouts completed and checked; Errors failed (must be 0).
	Checkouts int
}

// APIReport is what the benchmarks of one measured API call per
// operation report alike: RunCard (an operation is a checkout, the call
// /pay) and RunCollections (a registration, the call /collect). They
// differ only in the operation's name, which Report and CollectionReport
// add with its count.
type APIReport struct {
	DB             string
	DBVersion      string
	Latency        time.Duration // added by the simulator to each gateway call
	Jitter         time.Duration // plus up to this much more
	N              int           // operations asked for
	Concurrency    int
	Warmup         int
	Jobs           bool // the job runner was running
	IdempotencyKey bool // requests carried an Idempotency-Key
	Analyzed       bool // the PostgreSQL schema was analysed after the warm-up

	// Errors counts the failed operations (must be 0).
	Errors       int
	ErrorSamples []string
	// Verified is how many completed operations were found to have
	// taken effect exactly once at the simulator and in the store.
	Verified int

	// Wall is the measured phase's duration; PerSecond is completed
	// operations per second of Wall, each being an order creation and the
	// measured call (a card checkout takes a token in between).
	Wall      time.Duration
	PerSecond float64
	// CPU is the CPU time this process used in the measured phase: kessai,
	// the simulator and the shop-side client together (PostgreSQL's own
	// processes not included). Unlike wall times it hardly depends on
	// what else the machine runs, so CPU per operation bounds the
	// throughput: NumCPU / (CPU / operations).
	CPU time.Duration

	// Added is Total minus Gateway: what kessai adds, as the shop sees it
	// (loopback hop and HTTP client included). Total is the measured
	// call's wall time at the client, Gateway the sum of its gateway round
	// trips.
	Added, Total, Gateway Dist
	// HandlerAdded is the handler's time minus Gateway: kessai's own work
	// without the shop-side HTTP hop and the client's scheduling.
	HandlerAdded Dist
	// CreateOrder is the POST /v1/orders before each measured call.
	CreateOrder Dist
	// GatewayCalls and GatewayNewConns count the gateway client's calls
	// and newly opened connections during the measured phase.
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
func (r *Report) MarshalJSON() ([]byte, error) { return r.marshalJSON("checkout", r.Checkouts) }

// CPUPerCheckout is CPU divided by the completed checkouts.
func (r *Report) CPUPerCheckout() time.Duration { return perCall(r.CPU, r.Checkouts) }

// marshalJSON writes r with durations in milliseconds and snake_case
// names; count, the completed operations, goes under unit+"s", and the
// rate and CPU time per operation are named after unit
// ("checkouts_per_second", "cpu_ms_per_checkout").
func (r *APIReport) marshalJSON(unit string, count int) ([]byte, error) {
	fields := []jsonField{
		{"db", r.DB}, {"db_version", r.DBVersion}, {"sim_latency_ms", ms(r.Latency)}, {"sim_jitter_ms", ms(r.Jitter)},
		{"n", r.N}, {"concurrency", r.Concurrency}, {"warmup", r.Warmup}, {"job_runner", r.Jobs},
		{"idempotency_key", r.IdempotencyKey}, {"analyzed", r.Analyzed}, {unit + "s", count}, {"errors", r.Errors},
	}
	if len(r.ErrorSamples) > 0 { // omitempty
		fields = append(fields, jsonField{"error_samples", r.ErrorSamples})
	}
	fields = append(fields, []jsonField{
		{"verified", r.Verified}, {"wall_ms", ms(r.Wall)}, {unit + "s_per_second", r.PerSecond},
		{"cpu_ms_per_" + unit, ms(perCall(r.CPU, count))}, {"added", r.Added}, {"total", r.Total}, {"gateway", r.Gateway},
		{"handler_added", r.HandlerAdded}, {"create_order", r.CreateOrder}, {"gateway_calls", r.GatewayCalls},
		{"gateway_new_connections", r.GatewayNewConns}, {"machine", r.Machine},
	}...)
	return marshalObject(fields)
}

// jsonField is one member of a JSON object written by marshalObject.
type jsonField struct {
	key   string
	value any
}

// marshalObject writes fields as one JSON object, in their order. A
// struct's tags cannot vary, and APIReport's keys are named after the
// operation; a map would sort the keys, changing the JSON's order.
func marshalObject(fields []jsonField) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// perCall is cpu divided by n calls (0 for none).
func perCall(cpu time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// perSecond is n calls over wall (0 for no time).
func perSecond(n int, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(n) / wall.Seconds()
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// fill computes the figures of the measured calls done, errs being the
// failed ones.
func (r *APIReport) fill(done []Checkout, errs *errorLog) {
	r.Errors, r.ErrorSamples = errs.count, errs.samples
	r.PerSecond = perSecond(len(done), r.Wall)
	r.Added, r.Total, r.Gateway, r.HandlerAdded, r.CreateOrder = callDists(done)
}

// callDists summarises the measured calls: added, total, gateway, added
// in the handler, and the order creation before each call.
func callDists(done []Checkout) (added, total, gateway, handlerAdded, createOrder Dist) {
	pick := func(f func(Checkout) time.Duration) Dist {
		v := make([]time.Duration, len(done))
		for i, c := range done {
			v[i] = f(c)
		}
		return summarise(v)
	}
	return pick(Checkout.Added), pick(func(c Checkout) time.Duration { return c.Total }),
		pick(func(c Checkout) time.Duration { return c.Gateway }),
		pick(func(c Checkout) time.Duration { return c.Handler - c.Gateway }),
		pick(func(c Checkout) time.Duration { return c.CreateOrder })
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
	return r.writeTable(w, "card checkout through the API", "checkout", r.Checkouts, "total /pay", "gateway")
}

// writeTable prints r for people: title heads it, unit names an
// operation, count is the completed ones, and totalRow and gatewayRow
// name the measured call's rows of the latency table.
func (r *APIReport) writeTable(w io.Writer, title, unit string, count int, totalRow, gatewayRow string) error {
	fmt.Fprintf(w, "%s: %s (%s), simulator latency %s\n", title, r.DB, r.DBVersion, latencyText(r.Latency, r.Jitter))
	fmt.Fprintf(w, "  %d %ss, concurrency %d, warm-up %d, job runner %s, Idempotency-Key %s%s\n", r.N, unit, r.Concurrency,
		r.Warmup, onOff(r.Jobs, "on", "off"), onOff(r.IdempotencyKey, "yes", "no"), onOff(r.Analyzed, ", ANALYZE after the warm-up", ""))
	writeMachine(w, r.Machine)
	writeDists(w, 24, []distRow{
		{"added (total − gateway)", r.Added},
		{totalRow, r.Total},
		{gatewayRow, r.Gateway},
		{"added in handler", r.HandlerAdded},
		{"create order", r.CreateOrder},
	})
	fmt.Fprintf(w, "\n  %ss/s: %.0f  (%d in %s)\n", unit, r.PerSecond, count, r.Wall.Round(time.Millisecond))
	if c := perCall(r.CPU, count); c > 0 {
		fmt.Fprintf(w, "  CPU of this process: %.2f ms per %s (kessai, simulator and client; at most %.0f %ss/s on %d CPUs)\n",
			ms(c), unit, float64(r.Machine.CPUs)/c.Seconds(), unit, r.Machine.CPUs)
	}
	fmt.Fprintf(w, "  gateway calls: %d (%.1f per %s), new gateway connections: %d\n", r.GatewayCalls,
		callsPer(r.GatewayCalls, count), unit, r.GatewayNewConns)
	fmt.Fprintf(w, "  errors: %d, verified at the simulator and in the store: %d\n", r.Errors, r.Verified)
	writeErrorSamples(w, r.ErrorSamples)
	_, err := fmt.Fprintln(w)
	return err
}

// distRow is one line of a report's latency table.
type distRow struct {
	name string
	d    Dist
}

// writeDists prints a latency table with the names in a column of width
// runes (not bytes: "−" is three bytes wide in UTF-8).
func writeDists(w io.Writer, width int, rows []distRow) {
	fmt.Fprintf(w, "  %s %8s %8s %8s %8s %8s\n", "ms"+strings.Repeat(" ", width-2), "p50", "p90", "p99", "max", "mean")
	for _, row := range rows {
		d := row.d
		pad := strings.Repeat(" ", max(0, width-utf8.RuneCountInString(row.name)))
		fmt.Fprintf(w, "  %s%s %8.2f %8.2f %8.2f %8.2f %8.2f\n", row.name, pad, ms(d.P50), ms(d.P90), ms(d.P99), ms(d.Max), ms(d.Mean))
	}
}

func onOff(b bool, on, off string) string {
	if b {
		return on
	}
	return off
}

// latencyText is the simulator's latency, with its jitter if any.
func latencyText(latency, jitter time.Duration) string {
	s := latency.String()
	if jitter > 0 {
		s += " + [0, " + jitter.String() + ")"
	}
	return s
}

func writeMachine(w io.Writer, m Machine) {
	fmt.Fprintf(w, "  machine: %d CPUs, %s, %s/%s, %s, load %s → %s\n\n", m.CPUs, m.CPUModel, m.OS, m.Arch, m.Go, m.LoadAvgBefore, m.LoadAvgAfter)
}

func writeErrorSamples(w io.Writer, samples []string) {
	for _, s := range samples {
		fmt.Fprintf(w, "    %s\n", s)
	}
}

// callsPer is a calls over b operations (0 for none).
func callsPer(a int64, b int) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
