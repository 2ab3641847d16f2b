package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchRenewalsCommand runs a tiny `kessai bench renewals -json`: the
// flags reach the benchmark, stdout is the JSON report alone, and the
// progress goes to stderr.
func TestBenchRenewalsCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runBenchRenewals([]string{"-n", "20", "-cap", "2", "-latency", "5ms", "-workers", "3", "-warmup", "-1", "-json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var rep map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout.String())
	}
	for k, want := range map[string]any{"n": 20.0, "cap": 2.0, "workers": 3.0, "warmup": 0.0, "renewed": 20.0, "verified": 20.0,
		"gateway_calls": 40.0, "sim_latency_ms": 5.0} {
		if rep[k] != want {
			t.Errorf("%s = %v, want %v", k, rep[k], want)
		}
	}
	if !strings.Contains(stderr.String(), "run done") {
		t.Errorf("no progress on stderr: %q", stderr.String())
	}
	if code := runBenchRenewals([]string{"-db", "mysql"}, &stdout, &stderr); code != 1 {
		t.Errorf("unknown database: exit %d, want 1", code)
	}
	if code := runBenchRenewals([]string{"extra"}, &stdout, &stderr); code != 2 {
		t.Errorf("extra argument: exit %d, want 2", code)
	}
}
