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

// TestBenchReportFlags checks that `kessai bench report`'s flags reach the
// suite's options and that bad ones are refused before anything runs. The
// suite itself is run (in quick mode) by internal/bench's tests; here it
// would need a kessai binary built for the start-up scenario.
func TestBenchReportFlags(t *testing.T) {
	var stderr bytes.Buffer
	o, code := parseBenchReport([]string{"-out", "/tmp/r", "-db", "postgres", "-database-url", "postgres://u:hunter2@db/x",
		"-quick", "-card-n", "1", "-collect-n", "2", "-notify-n", "3", "-renewals-n", "4", "-tls-n", "5", "-startup-runs", "6",
		"-kessai-bin", "/bin/kessai"}, &stderr)
	if code != -1 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if o.Out != "/tmp/r" || o.DB != "postgres" || o.DatabaseURL != "postgres://u:hunter2@db/x" || !o.Quick || o.CardN != 1 ||
		o.CollectN != 2 || o.NotifyN != 3 || o.RenewalN != 4 || o.TLSN != 5 || o.StartupRuns != 6 || o.Bin != "/bin/kessai" ||
		o.Version != version {
		t.Errorf("options %+v", o)
	}
	want := "kessai bench report -out /tmp/r -db postgres -database-url postgres://u:xxxxx@db/x -quick -card-n 1 -collect-n 2 " +
		"-notify-n 3 -renewals-n 4 -tls-n 5 -startup-runs 6 -kessai-bin /bin/kessai"
	if o.Command != want {
		t.Errorf("command\n got %s\nwant %s", o.Command, want)
	}
	if strings.Contains(o.Command, "hunter2") {
		t.Error("the command in the report shows the database password")
	}

	o, code = parseBenchReport(nil, &stderr)
	if code != -1 || o.Out != "docs/report" || o.DB != "sqlite" || o.Quick || o.CardN != 0 || o.Bin == "" {
		t.Errorf("defaults: exit %d, options %+v", code, o)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"-h"}, 0},
		{[]string{"-db", "mysql"}, 2},
		{[]string{"-db", "postgres", "-database-url", ""}, 2},
		{[]string{"-card-n", "-1"}, 2},
		{[]string{"-out", ""}, 2},
		{[]string{"extra"}, 2},
	} {
		if _, code := parseBenchReport(c.args, &stderr); code != c.code {
			t.Errorf("%q: exit %d, want %d", c.args, code, c.code)
		}
	}
	if code := runBenchReport([]string{"-db", "mysql"}, &stderr, &stderr); code != 2 {
		t.Errorf("runBenchReport with a bad flag: exit %d, want 2", code)
	}
	for arg, want := range map[string]string{
		"-database-url=postgres://u:pw@h/db": "-database-url=postgres://u:xxxxx@h/db",
		"postgres://u@h/db":                  "postgres://u@h/db",
		"docs/report":                        "docs/report",
	} {
		if got := redactArg(arg); got != want {
			t.Errorf("redactArg(%q) = %q, want %q", arg, got, want)
		}
	}
	for in, want := range map[string]string{"it's": `'it'\''s'`, "postgres://h/db?sslmode=disable&x=1": "'postgres://h/db?sslmode=disable&x=1'",
		"": "''", "-n": "-n"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
