package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// checkDist fails unless d is a plausible distribution of positive
// durations: every figure set and the percentiles in order.
func checkDist(t *testing.T, name string, d Dist) {
	t.Helper()
	if d.P50 <= 0 || d.P50 > d.P90 || d.P90 > d.P99 || d.P99 > d.Max || d.Mean <= 0 || d.Mean > d.Max {
		t.Errorf("%s: implausible %+v", name, d)
	}
}

// TestRunTLS runs a small comparison and checks that the figures add up:
// every handshake call opened a connection and the pooled ones did not,
// and a handshake costs more than a reused connection. Wall-clock limits
// are not judged: the machine may be busy.
func TestRunTLS(t *testing.T) {
	const n, rounds = 200, 4
	var phases []string
	rep, err := RunTLS(t.Context(), TLSOptions{N: n, Rounds: rounds, Progress: func(p string) { phases = append(phases, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"setup", "warmup", "round 1/4", "round 2/4", "round 3/4", "round 4/4"}; strings.Join(phases, ",") != strings.Join(want, ",") {
		t.Errorf("phases %q, want %q", phases, want)
	}
	if rep.N != n || rep.Rounds != rounds {
		t.Errorf("N %d rounds %d", rep.N, rep.Rounds)
	}
	checkDist(t, "pooled", rep.Pooled)
	checkDist(t, "handshake", rep.Handshake)
	if rep.HandshakeNewConns != n {
		t.Errorf("new handshake: %d new connections for %d calls", rep.HandshakeNewConns, n)
	}
	// After the warm-up the pool holds its connection; a round's pause
	// is far below the idle timeout, so at most a stray reconnect.
	if rep.PooledNewConns > 1 {
		t.Errorf("pooled: %d new connections for %d calls", rep.PooledNewConns, n)
	}
	// A full ECDHE-ECDSA handshake is several times a call's own work;
	// medians of interleaved rounds keep machine noise from inverting it.
	if rep.Ratio <= 1 || rep.Ratio != float64(rep.Handshake.P50)/float64(rep.Pooled.P50) {
		t.Errorf("ratio %.2f for medians %s and %s", rep.Ratio, rep.Handshake.P50, rep.Pooled.P50)
	}
	if processCPU() > 0 && (rep.PooledCPU <= 0 || rep.HandshakeCPU <= rep.PooledCPU) {
		t.Errorf("CPU per call: pooled %s, new handshake %s", rep.PooledCPU, rep.HandshakeCPU)
	}
	if rep.Machine.CPUs <= 0 || rep.Machine.Go == "" {
		t.Errorf("machine %+v", rep.Machine)
	}

	b, got := marshalToMap(t, rep)
	pooled, _ := got["pooled"].(map[string]any)
	if got["n"] != float64(n) || got["new_handshake_new_connections"] != float64(n) || pooled == nil ||
		pooled["p50_ms"] != ms(rep.Pooled.P50) || got["new_handshake_cpu_ms_per_call"] != ms(rep.HandshakeCPU) {
		t.Errorf("JSON %s", b)
	}

	checkTable(t, rep, "TLS 1.2", "pooled keep-alive", "new handshake per call", "200 calls each", "4 alternating rounds")
}

// TestRunTLSCancel checks that a cancelled context ends the run with the
// context's error rather than a report.
func TestRunTLSCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	rep, err := RunTLS(ctx, TLSOptions{N: 100_000, Rounds: 1, Progress: func(p string) {
		if p == "round 1/1" {
			time.AfterFunc(50*time.Millisecond, cancel)
		}
	}})
	if !errors.Is(err, context.Canceled) || rep != nil {
		t.Fatalf("got %v, %v; want context.Canceled", rep, err)
	}
}
