package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// TLSOptions configures RunTLS.
type TLSOptions struct {
	// N is the number of measured calls of each kind; default 2000.
	N int
	// Rounds is how many alternating batches the calls are split into;
	// default 10, at most N.
	Rounds int
	// Progress, when set, is told the phase being entered ("setup",
	// "warmup", "round 3/10").
	Progress func(string)
}

// TLSReport compares a gateway call over a pooled keep-alive connection
// with one that opens a new connection and TLS 1.2 handshake, as the PHP
// plugins do. Durations are per call.
type TLSReport struct {
	N      int // measured calls of each kind
	Rounds int
	// Pooled and Handshake are the calls' wall times at the client.
	Pooled, Handshake Dist
	// Ratio is the median handshake call over the median pooled one.
	Ratio float64
	// PooledNewConns and HandshakeNewConns are the connections each
	// client opened during the measured calls (the warm-up excluded), by
	// its own Stats(): about 0 and N when pooling works.
	PooledNewConns, HandshakeNewConns int64
	// PooledCPU and HandshakeCPU are this process's CPU time per call:
	// client and simulator together, since both ends of a handshake cost.
	// Like Report.CPU it hardly depends on the machine's other load.
	PooledCPU, HandshakeCPU time.Duration

	Machine Machine
}

// tlsDefaultN and tlsDefaultRounds are used when TLSOptions leaves them 0.
const (
	tlsDefaultN      = 2000
	tlsDefaultRounds = 10
)

// tlsMode is one of the two clients with what its calls measured.
type tlsMode struct {
	name   string
	c      *escott.Client
	tr     *http.Transport
	times  []time.Duration
	cpu    time.Duration
	conns0 int64 // Stats() new connections after the warm-up
}

// RunTLS makes o.N 1Search calls (as BenchmarkTLSPooled and
// BenchmarkTLSNewHandshake in escott/conformance) to an in-process
// simulator served over TLS 1.2 on loopback, through the client's default
// pooled transport and through one with keep-alives off, which opens a
// new connection and does a full handshake per call (the transport keeps
// no TLS session cache, so nothing is resumed; the PHP plugins' new cURL
// handle per call resumes nothing either). The two alternate in o.Rounds
// batches, the order swapped every round, so that a burst of load from
// elsewhere on the machine, or the process warming up, hits both alike.
// Any failed call fails the run: a figure with errors in it measures
// something else.
func RunTLS(ctx context.Context, o TLSOptions) (*TLSReport, error) {
	if o.N < 0 || o.Rounds < 0 {
		return nil, fmt.Errorf("bench: N (%d) and Rounds (%d) must not be negative", o.N, o.Rounds)
	}
	if o.N == 0 {
		o.N = tlsDefaultN
	}
	if o.Rounds == 0 {
		o.Rounds = tlsDefaultRounds
	}
	o.Rounds = min(o.Rounds, o.N)
	progress := func(p string) {
		if o.Progress != nil {
			o.Progress(p)
		}
	}

	progress("setup")
	cert, err := sim.GenerateCertificate("127.0.0.1")
	if err != nil {
		return nil, fmt.Errorf("bench: certificate: %w", err)
	}
	s, err := sim.New(sim.Config{Merchants: []sim.Merchant{sim.DemoMerchant}})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	srv := httptest.NewUnstartedServer(s)
	// A client that gives up (context cancelled) would otherwise print
	// handshake errors into the report's terminal.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = cert.TLSConfig() // TLS 1.2 only, like the gateway
	srv.StartTLS()
	defer srv.Close()

	newClient := func(opts escott.TransportOptions) (*escott.Client, *http.Transport, error) {
		opts.RootCAs = cert.Pool
		tr := escott.NewTransport(opts)
		m := sim.DemoMerchant
		c, err := escott.New(escott.Config{
			Merchant:    escott.Merchant{MerchantID: m.MerchantID, MerchantPass: m.TestPass, TenantID: m.TenantIDs[0]},
			Environment: escott.Test, BaseURL: srv.URL, HTTPClient: &http.Client{Transport: tr}, Now: s.Now,
		})
		return c, tr, err
	}
	// The transaction searched is made by a third client, so that neither
	// measured client has done anything before its own warm-up.
	setup, setupTr, err := newClient(escott.TransportOptions{})
	if err != nil {
		return nil, err
	}
	defer setupTr.CloseIdleConnections()
	tok, err := s.IssueToken(sim.DemoMerchant.MerchantID, "test", "4012000000000008", "3012", "", "")
	if err != nil {
		return nil, fmt.Errorf("bench: token: %w", err)
	}
	mf1, err := escott.NewMerchantFree1(setup.Rand())
	if err != nil {
		return nil, err
	}
	auth, err := setup.Authorize(ctx, escott.AuthRequest{Ref: escott.Ref{MerchantFree1: mf1, MerchantFree2: "bench-tls"}, Amount: 1000, Token: tok})
	if err != nil {
		return nil, fmt.Errorf("bench: 1Auth: %w", err)
	}
	pr := auth.Process

	var modes [2]*tlsMode
	for i, opts := range []escott.TransportOptions{{}, {DisableKeepAlives: true}} {
		c, tr, err := newClient(opts)
		if err != nil {
			return nil, err
		}
		defer tr.CloseIdleConnections()
		modes[i] = &tlsMode{name: [2]string{"pooled", "new handshake"}[i], c: c, tr: tr, times: make([]time.Duration, 0, o.N)}
	}
	pooled, handshake := modes[0], modes[1]

	call := func(m *tlsMode) error {
		if _, err := m.c.Search(ctx, escott.Ref{}, pr); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("bench: 1Search (%s): %w", m.name, err)
		}
		return nil
	}

	// The warm-up takes the first connection, the code paths' first runs
	// and the heap's growth out of the figures, as a Go benchmark's
	// first b.N=1 run does.
	progress("warmup")
	warm := max(1, min(100, o.N/10))
	for _, m := range modes {
		for range warm {
			if err := call(m); err != nil {
				return nil, err
			}
		}
		_, m.conns0 = m.c.Stats()
	}

	rep := &TLSReport{N: o.N, Rounds: o.Rounds, Machine: CurrentMachine()}
	batch := func(m *tlsMode, k int) error {
		cpu0 := processCPU()
		defer func() { m.cpu += processCPU() - cpu0 }()
		for range k {
			if err := ctx.Err(); err != nil {
				return err
			}
			t0 := time.Now()
			if err := call(m); err != nil {
				return err
			}
			m.times = append(m.times, time.Since(t0))
		}
		return nil
	}
	for r := range o.Rounds {
		progress(fmt.Sprintf("round %d/%d", r+1, o.Rounds))
		// The first rounds take the remainder, so the totals are N.
		k := o.N / o.Rounds
		if r < o.N%o.Rounds {
			k++
		}
		first, second := pooled, handshake
		if r%2 == 1 {
			first, second = handshake, pooled
		}
		if err := batch(first, k); err != nil {
			return nil, err
		}
		if err := batch(second, k); err != nil {
			return nil, err
		}
	}
	rep.Machine.LoadAvgAfter = loadAvg()

	for _, m := range modes {
		if len(m.times) != o.N {
			return nil, errors.New("bench: internal error: calls counted wrong")
		}
	}
	rep.Pooled, rep.Handshake = summarise(pooled.times), summarise(handshake.times)
	if rep.Pooled.P50 > 0 {
		rep.Ratio = float64(rep.Handshake.P50) / float64(rep.Pooled.P50)
	}
	_, c := pooled.c.Stats()
	rep.PooledNewConns = c - pooled.conns0
	_, c = handshake.c.Stats()
	rep.HandshakeNewConns = c - handshake.conns0
	rep.PooledCPU = pooled.cpu / time.Duration(o.N)
	rep.HandshakeCPU = handshake.cpu / time.Duration(o.N)
	return rep, nil
}

// MarshalJSON writes durations in milliseconds and snake_case names.
func (r *TLSReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		N                 int     `json:"n"`
		Rounds            int     `json:"rounds"`
		Pooled            Dist    `json:"pooled"`
		Handshake         Dist    `json:"new_handshake"`
		Ratio             float64 `json:"median_ratio"`
		PooledNewConns    int64   `json:"pooled_new_connections"`
		HandshakeNewConns int64   `json:"new_handshake_new_connections"`
		PooledCPU         float64 `json:"pooled_cpu_ms_per_call"`
		HandshakeCPU      float64 `json:"new_handshake_cpu_ms_per_call"`
		Machine           Machine `json:"machine"`
	}{r.N, r.Rounds, r.Pooled, r.Handshake, r.Ratio, r.PooledNewConns, r.HandshakeNewConns, ms(r.PooledCPU), ms(r.HandshakeCPU), r.Machine})
}

// WriteTable prints the report for people.
func (r *TLSReport) WriteTable(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "gateway call over TLS 1.2 on loopback (1Search to the simulator): pooled keep-alive vs a new handshake per call\n")
	fmt.Fprintf(w, "  %d calls each, in %d alternating rounds\n", r.N, r.Rounds)
	fmt.Fprintf(w, "  machine: %d CPUs, %s, %s/%s, %s, load %s → %s\n\n", m.CPUs, m.CPUModel, m.OS, m.Arch, m.Go, m.LoadAvgBefore, m.LoadAvgAfter)
	fmt.Fprintf(w, "  %-24s %8s %8s %8s %8s %8s %10s %9s\n", "ms per call", "p50", "p90", "p99", "max", "mean", "CPU", "new conns")
	for _, row := range []struct {
		name  string
		d     Dist
		cpu   time.Duration
		conns int64
	}{
		{"pooled keep-alive", r.Pooled, r.PooledCPU, r.PooledNewConns},
		{"new handshake per call", r.Handshake, r.HandshakeCPU, r.HandshakeNewConns},
	} {
		d := row.d
		fmt.Fprintf(w, "  %-24s %8.3f %8.3f %8.3f %8.3f %8.3f %10.3f %9d\n", row.name, ms(d.P50), ms(d.P90), ms(d.P99), ms(d.Max), ms(d.Mean), ms(row.cpu), row.conns)
	}
	fmt.Fprintf(w, "\n  new handshake ÷ pooled (median): %.1f×\n", r.Ratio)
	if r.PooledCPU > 0 {
		fmt.Fprintf(w, "  CPU is this process's per call: client and simulator together (both ends of the handshake)\n")
	} else {
		fmt.Fprintf(w, "  CPU: not measurable on this system\n")
	}
	_, err := fmt.Fprintln(w)
	return err
}
