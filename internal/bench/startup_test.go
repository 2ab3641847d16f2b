package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kessai/kessai/internal/kessaibin"
)

// buildKessai builds the kessai command into a temporary directory: the
// start-up is measured on the binary as it ships.
func buildKessai(t *testing.T) string {
	t.Helper()
	bin, err := kessaibin.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestRunStartup starts the real binary twice and checks that the figures
// are plausible and in order. A KESSAI_* configuration pointing nowhere is
// set: were it passed on, no start could succeed.
func TestRunStartup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kessai binary")
	}
	bin := buildKessai(t)
	t.Setenv("KESSAI_DATABASE_URL", "postgres://kessai@nowhere.invalid/kessai")
	t.Setenv("KESSAI_ADDR", "256.0.0.1:1")
	var phases []string
	rep, err := RunStartup(t.Context(), StartupOptions{Bin: bin, Runs: 2, Progress: func(p string) { phases = append(phases, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(phases, ",") != "run 1/2,run 2/2" {
		t.Errorf("phases %q", phases)
	}
	if rep.Runs != 2 || rep.FirstStart <= 0 {
		t.Errorf("runs %d, first start %s", rep.Runs, rep.FirstStart)
	}
	checkDist(t, "restart", rep.Restart)
	checkDist(t, "shutdown", rep.Shutdown)
	// One restart: every figure is that run's.
	if d := rep.Restart; d.P50 != d.Max || d.Mean != d.Max {
		t.Errorf("one restart summarised as %+v", d)
	}
	if runtime.GOOS == "linux" {
		// A Go server with SQLite and its job runner needs megabytes,
		// not bytes and not gigabytes; the peak can only grow while idle.
		if rep.RSSReady < 4<<20 || rep.RSSReady > 4<<30 || rep.RSSIdle < rep.RSSReady {
			t.Errorf("peak RSS %d when ready, %d after idle", rep.RSSReady, rep.RSSIdle)
		}
	} else if rep.RSSReady != 0 || rep.RSSIdle != 0 {
		t.Errorf("RSS %d/%d where /proc has none", rep.RSSReady, rep.RSSIdle)
	}

	b, got := marshalToMap(t, rep)
	restart, _ := got["restart"].(map[string]any)
	if got["runs"] != 2.0 || got["first_start_ms"] != ms(rep.FirstStart) || restart == nil || restart["p50_ms"] != ms(rep.Restart.P50) ||
		got["rss_ready_bytes"] != float64(rep.RSSReady) {
		t.Errorf("JSON %s", b)
	}

	checkTable(t, rep, "2 runs", "first start", "restart, exec to ready (1)", "shutdown, SIGTERM to exit (2)", "peak RSS")
}

// fakeKessai writes a shell script standing in for the binary.
func fakeKessai(t *testing.T, script string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs /bin/sh")
	}
	bin := filepath.Join(t.TempDir(), "kessai")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestRunStartupFails checks that a start that fails returns the end of
// the child's log, and that the child saw no KESSAI_* variable.
func TestRunStartupFails(t *testing.T) {
	bin := fakeKessai(t, "env | grep '^KESSAI_' >&2\necho 'cannot open the database: disk on fire' >&2\nexit 3\n")
	t.Setenv("KESSAI_MASTER_KEY", "leaked")
	_, err := RunStartup(t.Context(), StartupOptions{Bin: bin, Runs: 2})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "run 1 of kessai serve") || !strings.Contains(msg, "exit status 3") || !strings.Contains(msg, "disk on fire") {
		t.Errorf("error %q lacks the run, the exit status or the log", msg)
	}
	if strings.Contains(msg, "KESSAI_") {
		t.Errorf("the child saw KESSAI_ variables: %q", msg)
	}
}

// TestRunStartupCancel checks that cancelling the context while a start
// is awaited ends the child: none is left running.
func TestRunStartupCancel(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	// exec keeps the pid: the process written down is the one waiting.
	bin := fakeKessai(t, "echo $$ > '"+pidFile+"'\nexec sleep 60\n")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type result struct {
		rep *StartupReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := RunStartup(ctx, StartupOptions{Bin: bin, Runs: 1})
		done <- result{rep, err}
	}()
	var pid int
	for deadline := time.Now().Add(30 * time.Second); pid == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fake server never started")
		}
		b, _ := os.ReadFile(pidFile)
		if s := strings.TrimSpace(string(b)); s != "" && strings.HasSuffix(string(b), "\n") {
			var err error
			if pid, err = strconv.Atoi(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	cancel()
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("RunStartup did not return after the cancel")
	}
	if !errors.Is(r.err, context.Canceled) || r.rep != nil {
		t.Fatalf("got %v, %v; want context.Canceled", r.rep, r.err)
	}
	// The child was waited for, so its pid is gone rather than a zombie.
	if p, err := os.FindProcess(pid); err == nil {
		if err := p.Signal(syscall.Signal(0)); err == nil {
			_ = p.Kill()
			t.Fatalf("process %d still runs", pid)
		}
	}
}

// TestStartupParseVmHWM reads the peak RSS line of /proc/<pid>/status.
func TestStartupParseVmHWM(t *testing.T) {
	status := "Name:\tkessai\nVmPeak:\t 1300000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t   50000 kB\n"
	if got := parseVmHWM([]byte(status)); got != 51234<<10 {
		t.Errorf("got %d", got)
	}
	if got := parseVmHWM([]byte("Name:\tx\n")); got != 0 {
		t.Errorf("no VmHWM line: got %d", got)
	}
}
