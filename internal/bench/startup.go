package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kessai/kessai/internal/kessaibin"
)

// StartupOptions configures RunStartup.
type StartupOptions struct {
	// Bin is the kessai binary to run.
	Bin string
	// Runs is the number of starts, the first on a new data directory;
	// default 5.
	Runs int
	// Progress, when set, is told the run being entered ("run 1/5").
	Progress func(string)
}

// StartupReport is what starting and stopping `kessai serve` costs.
type StartupReport struct {
	Runs int
	// FirstStart is the time from exec to the first 200 from /readyz on a
	// new data directory: the database is created and migrated, the master
	// key, the API keys, the admin user and the demo shop are made.
	FirstStart time.Duration
	// Restart is the same for the later runs, on the existing directory.
	Restart Dist
	// RSSReady and RSSIdle are the server process's peak resident set
	// (VmHWM) in bytes when it first answered ready and after
	// StartupIdle more, the largest over the runs; 0 where /proc does not
	// tell (not Linux).
	RSSReady, RSSIdle int64
	// Shutdown is the time from SIGTERM to the process's exit, every run.
	Shutdown Dist

	Machine Machine
}

const (
	startupDefaultRuns = 5
	// StartupIdle is how long each server is left alone after it is ready
	// before its peak RSS is read again: long enough for the job runner to
	// elect its leader and run its start-up work, short enough to keep
	// the runs quick.
	StartupIdle = 2 * time.Second
	// startupTimeout bounds a start; a first start on a slow machine
	// (migrations, password hashing) takes seconds, not minutes.
	startupTimeout = 2 * time.Minute
	// stopTimeout bounds a shutdown: serve's default shutdown timeout
	// (30 s) plus a margin; a server past it is killed and the run fails.
	stopTimeout = 45 * time.Second
	// stderrTail is how much of the child's log an error quotes.
	stderrTail = 4000
)

// RunStartup starts the kessai binary o.Bin o.Runs times as `kessai serve`
// as the README runs it (embedded SQLite, the built-in simulator and the
// demo shop) but on free loopback ports and a temporary data directory,
// which the first run creates and the later ones restart on. Each run is
// timed from exec to the first 200 from GET /readyz, its peak RSS is read
// when ready and after StartupIdle, and it is stopped with SIGTERM as an
// init system would, timing the exit. The child gets this process's
// environment without any KESSAI_* variable, so that a developer's
// configuration (a database URL, a master key) cannot change what is
// measured. No child outlives the call, whatever it returns.
func RunStartup(ctx context.Context, o StartupOptions) (*StartupReport, error) {
	if o.Bin == "" {
		return nil, errors.New("bench: no kessai binary given")
	}
	if o.Runs < 0 {
		return nil, fmt.Errorf("bench: Runs (%d) must not be negative", o.Runs)
	}
	if o.Runs == 0 {
		o.Runs = startupDefaultRuns
	}
	// The child runs in another directory, so a relative path is made
	// absolute here; a bare name is looked up in PATH, as a shell would.
	var bin string
	var err error
	if filepath.Base(o.Bin) == o.Bin {
		bin, err = exec.LookPath(o.Bin)
	} else if bin, err = filepath.Abs(o.Bin); err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		return nil, fmt.Errorf("bench: kessai binary: %w", err)
	}
	// The child runs in the temporary directory too, so that nothing it
	// might write relative to its working directory lands in the caller's.
	dir, err := os.MkdirTemp("", "kessai-bench-startup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	dataDir := filepath.Join(dir, "data")

	rep := &StartupReport{Runs: o.Runs, Machine: CurrentMachine()}
	var restarts, stops []time.Duration
	for i := range o.Runs {
		if o.Progress != nil {
			o.Progress(fmt.Sprintf("run %d/%d", i+1, o.Runs))
		}
		r, err := startupRun(ctx, bin, dir, dataDir)
		if err != nil {
			return nil, fmt.Errorf("bench: run %d of kessai serve: %w", i+1, err)
		}
		if i == 0 {
			rep.FirstStart = r.ready
		} else {
			restarts = append(restarts, r.ready)
		}
		stops = append(stops, r.shutdown)
		rep.RSSReady = max(rep.RSSReady, r.rssReady)
		rep.RSSIdle = max(rep.RSSIdle, r.rssIdle)
	}
	rep.Machine.LoadAvgAfter = loadAvg()
	rep.Restart, rep.Shutdown = summarise(restarts), summarise(stops)
	return rep, nil
}

// startupResult is what one start measured.
type startupResult struct {
	ready, shutdown   time.Duration
	rssReady, rssIdle int64
}

// startupAPIRE finds the API's base URL in serve's banner, which is how the
// port the kernel chose (-addr 127.0.0.1:0) becomes known, without the
// race of picking a free port first and hoping it stays free.
var startupAPIRE = regexp.MustCompile(`API:\s+(http://\S+)/v1/`)

// startupRun runs `kessai serve` once on dataDir until it is ready, lets
// it idle, and stops it.
func startupRun(ctx context.Context, bin, workDir, dataDir string) (*startupResult, error) {
	stderr := &startupLogTail{max: 64 << 10}
	stdout := &startupBanner{found: make(chan string, 1)}
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-sim-addr", "127.0.0.1:0", "-data-dir", dataDir, "-demo", "on")
	cmd.Dir = workDir
	cmd.Env = kessaibin.Env()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Should the server leave a descendant holding its output open, Wait
	// still returns.
	cmd.WaitDelay = 5 * time.Second

	began := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	// Whatever happens below, the process is gone when this returns.
	defer func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	failed := func(what string) error {
		return fmt.Errorf("%s; its log ends:\n%s", what, stderr.Tail(stderrTail))
	}
	// exitedEarly reports a process that ended while it should be running.
	// A Ctrl-C at the terminal reaches the child (same process group) as
	// well as the caller, whose context then says what really happened.
	exitedEarly := func(when string) error {
		<-exited
		if err := ctx.Err(); err != nil {
			return err
		}
		return failed(fmt.Sprintf("exited %s (%v)", when, waitErr))
	}

	timeout := time.NewTimer(startupTimeout)
	defer timeout.Stop()
	var base string
	select {
	case base = <-stdout.found:
	case <-exited:
		return nil, exitedEarly("before printing its address")
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timeout.C:
		return nil, failed(fmt.Sprintf("printed no address in %s", startupTimeout))
	}

	// The client is this run's own, with no proxy (a developer's
	// HTTP_PROXY must not see loopback calls), and its connections are
	// closed before SIGTERM so the shutdown measured does not include
	// ending an idle keep-alive of ours.
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	run := &startupResult{}
	for {
		ok, err := startupReady(ctx, hc, base)
		if ok {
			run.ready = time.Since(began)
			break
		}
		select {
		case <-exited:
			return nil, exitedEarly("before it was ready")
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout.C:
			return nil, failed(fmt.Sprintf("not ready in %s (last: %v)", startupTimeout, err))
		case <-time.After(2 * time.Millisecond):
		}
	}
	run.rssReady = processPeakRSS(cmd.Process.Pid)

	select {
	case <-exited:
		return nil, exitedEarly("while idle")
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(StartupIdle):
	}
	run.rssIdle = processPeakRSS(cmd.Process.Pid)

	stopAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil, fmt.Errorf("SIGTERM: %w", err)
	}
	select {
	case <-exited:
		run.shutdown = time.Since(stopAt)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(stopTimeout):
		return nil, failed(fmt.Sprintf("still running %s after SIGTERM", stopTimeout))
	}
	if waitErr != nil {
		return nil, failed(fmt.Sprintf("shutdown failed (%v)", waitErr))
	}
	return run, nil
}

// startupReady asks GET /readyz once; err says why it was not ready.
func startupReady(ctx context.Context, hc *http.Client, base string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return false, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return true, nil
}

// processPeakRSS is a process's VmHWM in bytes, or 0 where /proc does not have it.
func processPeakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return parseVmHWM(b)
}

// parseVmHWM reads the "VmHWM:   1234 kB" line of /proc/<pid>/status.
func parseVmHWM(status []byte) int64 {
	for line := range strings.Lines(string(status)) {
		v, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return n << 10
	}
	return 0
}

// startupBanner is the child's stdout: it looks for the API's URL in the
// banner and throws the rest away (the first start prints API keys and
// the admin password, which nobody here needs to keep).
type startupBanner struct {
	found chan string
	line  []byte
	done  bool
}

// Write is only called from exec's copying goroutine, one call at a time.
func (b *startupBanner) Write(p []byte) (int, error) {
	if b.done {
		return len(p), nil
	}
	b.line = append(b.line, p...)
	for {
		i := bytes.IndexByte(b.line, '\n')
		if i < 0 {
			break
		}
		if m := startupAPIRE.FindSubmatch(b.line[:i]); m != nil {
			b.found <- string(m[1])
			b.done, b.line = true, nil
			return len(p), nil
		}
		b.line = b.line[i+1:]
	}
	// A line that never ends is not the banner.
	if len(b.line) > 64<<10 {
		b.line = nil
	}
	return len(p), nil
}

// startupLogTail keeps the last bytes of the child's log for error messages,
// without holding a long-running server's whole log.
type startupLogTail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *startupLogTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 2*t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// Tail is the last n bytes, from a line start when one is near.
func (t *startupLogTail) Tail(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.b
	if len(s) > n {
		s = s[len(s)-n:]
		if i := bytes.IndexByte(s, '\n'); i >= 0 && i < 200 {
			s = s[i+1:]
		}
		return "…" + string(s)
	}
	if len(s) == 0 {
		return "(nothing)"
	}
	return string(s)
}

// MarshalJSON writes durations in milliseconds and snake_case names; RSS
// is in bytes, 0 when unknown.
func (r *StartupReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Runs         int     `json:"runs"`
		FirstStartMS float64 `json:"first_start_ms"`
		Restart      Dist    `json:"restart"`
		RSSReady     int64   `json:"rss_ready_bytes"`
		RSSIdle      int64   `json:"rss_idle_bytes"`
		IdleMS       float64 `json:"idle_ms"`
		Shutdown     Dist    `json:"shutdown"`
		Machine      Machine `json:"machine"`
	}{r.Runs, ms(r.FirstStart), r.Restart, r.RSSReady, r.RSSIdle, ms(StartupIdle), r.Shutdown, r.Machine})
}

// WriteTable prints the report for people.
func (r *StartupReport) WriteTable(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "kessai serve start and stop (embedded SQLite, built-in simulator, demo shop): %d runs on one data directory\n", r.Runs)
	fmt.Fprintf(w, "  machine: %d CPUs, %s, %s/%s, %s, load %s → %s\n\n", m.CPUs, m.CPUModel, m.OS, m.Arch, m.Go, m.LoadAvgBefore, m.LoadAvgAfter)
	fmt.Fprintf(w, "  first start, new data directory (exec to ready): %.1f ms\n\n", ms(r.FirstStart))
	fmt.Fprintf(w, "  %-34s %8s %8s %8s %8s %8s\n", "ms", "p50", "p90", "p99", "max", "mean")
	rows := []struct {
		name string
		d    Dist
		n    int
	}{
		{fmt.Sprintf("restart, exec to ready (%d)", r.Runs-1), r.Restart, r.Runs - 1},
		{fmt.Sprintf("shutdown, SIGTERM to exit (%d)", r.Runs), r.Shutdown, r.Runs},
	}
	for _, row := range rows {
		if row.n <= 0 {
			fmt.Fprintf(w, "  %-34s %8s\n", row.name, "—")
			continue
		}
		d := row.d
		fmt.Fprintf(w, "  %-34s %8.1f %8.1f %8.1f %8.1f %8.1f\n", row.name, ms(d.P50), ms(d.P90), ms(d.P99), ms(d.Max), ms(d.Mean))
	}
	if r.RSSReady > 0 {
		fmt.Fprintf(w, "\n  peak RSS of the server (VmHWM, largest of the runs): %s when ready, %s after %s idle\n",
			mib(uint64(r.RSSReady)), mib(uint64(r.RSSIdle)), StartupIdle)
	} else {
		fmt.Fprintf(w, "\n  peak RSS: not available on this system (it is read from /proc/<pid>/status, Linux only)\n")
	}
	_, err := fmt.Fprintln(w)
	return err
}
