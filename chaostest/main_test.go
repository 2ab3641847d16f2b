package chaostest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kessai/kessai/internal/kessaibin"
)

// kessaiBin is the binary TestMain built: the suite kills and restarts
// the product as it ships, not an assembly of its packages in the test
// process (which a SIGKILL would take down with it).
var kessaiBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kessai-chaostest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaostest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := kessaibin.Build(dir)
	if err != nil {
		// Failing, not skipping: a crash suite that quietly does not run
		// proves nothing.
		fmt.Fprintln(os.Stderr, "chaostest:", err)
		return 1
	}
	kessaiBin = bin
	return m.Run()
}

// childEnv is the environment of the processes (kessaibin.Env): a
// developer's configuration (a master key, a database URL) cannot reach
// the instances under test.
func childEnv() []string { return kessaibin.Env() }

// size is how much one run does.
type size struct {
	// Journeys is the number of random shop journeys of the load phase.
	Journeys int
	// Kills is the number of random SIGKILLs during the load phase.
	Kills int
	// Workers is the number of concurrent journeys.
	Workers int
	// StepFlows is how many flows of one step run together in a step
	// scenario (one of them meets the fault that the kill aims at).
	StepFlows int
}

// chaosSize reads KESSAI_CHAOS_SIZE: empty for the CI size, or the
// number of journeys (kills grow with it).
func chaosSize(t *testing.T) size {
	s := size{Journeys: 30, Kills: 5, Workers: 4, StepFlows: 3}
	if v := os.Getenv("KESSAI_CHAOS_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("KESSAI_CHAOS_SIZE=%q: want a number of journeys", v)
		}
		s.Journeys = n
		s.Kills = max(5, n/6)
		s.Workers = min(16, max(4, n/25))
		s.StepFlows = min(8, max(3, n/50))
	}
	return s
}

// freeAddr returns a loopback address nobody listens on now. kessai
// keeps it across restarts: the simulator sends notifications there, and
// browsers come back to it.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is one running process with its output in files (which the leak
// scan reads afterwards).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	out  string // stdout file
	errf string // stderr file
}

func startProc(name string, args []string, outPath, errPath string) (*proc, error) {
	out, err := os.Create(outPath)
	if err != nil {
		return nil, err
	}
	errf, err := os.Create(errPath)
	if err != nil {
		out.Close()
		return nil, err
	}
	cmd := exec.Command(kessaiBin, args...)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = out, errf
	if err := cmd.Start(); err != nil {
		out.Close()
		errf.Close()
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), out: outPath, errf: errPath}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		errf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill ends the process with SIGKILL: no deferred function, no shutdown
// hook, no flush runs — a power cut as far as kessai can tell.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop ends the process as an operator would (SIGTERM, graceful
// shutdown), with SIGKILL after timeout.
func (p *proc) stop(timeout time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
	}
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

var (
	secretRE = regexp.MustCompile(`secret key \(server calls\):\s+(sk_\S+)`)
	adminRE  = regexp.MustCompile(`login / ログイン名:\s+(\S+)\n\s+password / パスワード:\s+(\S+)`)
)

// cluster is one simulator process and the kessai instance in front of
// it, restarted as often as the test kills it.
type cluster struct {
	t       *testing.T
	dir     string
	dataDir string
	logDir  string
	dbURL   string // "" for SQLite
	stale   time.Duration

	kessaiAddr, simAddr string
	api, sim            string // base URLs

	simProc *proc

	mu     sync.Mutex
	kessai *proc
	starts int
	// up is closed while kessai answers, replaced by an open channel
	// while it is down: API clients wait on it after a transport error.
	up chan struct{}

	sk, adminEmail, adminPass string

	client *http.Client
	audit  *auditor

	// startedAt is when the running kessai was started (UTC).
	startedAt time.Time
	// jobsDB reads River's job table (see maintenanceBusy).
	jobsDB *sql.DB
	// deferred counts kills put off while a maintenance job ran.
	deferred int
}

// staleAfter is kessai's -stale-after in the suite: the gateway calls of
// the suite take at most a few seconds (faults included), so an attempt
// still pending after this long belonged to a killed process.
const staleAfter = 8 * time.Second

func newCluster(t *testing.T, dbURL string) *cluster {
	t.Helper()
	dir := t.TempDir()
	if keep := os.Getenv("KESSAI_CHAOS_KEEP"); keep != "" {
		// For a look at the data, the logs and the webhook payloads
		// afterwards.
		if err := os.MkdirAll(keep, 0o700); err != nil {
			t.Fatal(err)
		}
		d, err := os.MkdirTemp(keep, "run-")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
		t.Logf("the run's files stay in %s", dir)
	}
	c := &cluster{t: t, dir: dir, dataDir: filepath.Join(dir, "data"), logDir: filepath.Join(dir, "logs"), dbURL: dbURL,
		stale: staleAfter, kessaiAddr: freeAddr(t), simAddr: freeAddr(t), up: make(chan struct{}),
		client: &http.Client{Timeout: 60 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	c.audit = newAuditor(t)
	if err := os.MkdirAll(c.logDir, 0o700); err != nil {
		t.Fatal(err)
	}
	c.api = "http://" + c.kessaiAddr
	c.sim = "http://" + c.simAddr
	sp, err := startProc("sim", []string{"sim", "-addr", c.simAddr, "-notify-url", c.api + "/escott/notify", "-log-level", "debug"},
		filepath.Join(c.logDir, "sim.out"), filepath.Join(c.logDir, "sim.err"))
	if err != nil {
		t.Fatal(err)
	}
	c.simProc = sp
	t.Cleanup(func() { sp.stop(10 * time.Second) })
	if err := waitHTTP(c.sim+"/_sim/clock", 20*time.Second, sp); err != nil {
		t.Fatalf("simulator: %v\n%s", err, tailFile(sp.errf, 3000))
	}
	c.startKessai()
	t.Cleanup(func() {
		c.mu.Lock()
		p := c.kessai
		c.mu.Unlock()
		if p != nil && !p.exited() {
			p.stop(15 * time.Second)
		}
		if t.Failed() && p != nil {
			t.Logf("kessai log (end):\n%s", tailFile(p.errf, 4000))
		}
	})
	return c
}

// waitHTTP polls url until it answers 200, the process exits or the
// time is up.
func waitHTTP(url string, d time.Duration, p *proc) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer %s in %v", p.name, url, d)
}

// startKessai starts `kessai serve` on the cluster's address and waits
// until it is ready; the first start also reads the API key and the
// first admin login from the banner. It fails the test, so it runs on the
// test's goroutine; goroutines use start.
func (c *cluster) startKessai() {
	c.t.Helper()
	if err := c.start(); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) start() error {
	c.mu.Lock()
	c.starts++
	n := c.starts
	c.mu.Unlock()
	args := []string{"serve", "-addr", c.kessaiAddr, "-sim-url", c.sim, "-data-dir", c.dataDir, "-demo", "off",
		"-stale-after", c.stale.String(), "-log-level", "debug", "-shutdown-timeout", "10s"}
	if c.dbURL != "" {
		args = append(args, "-database-url", c.dbURL)
	}
	started := time.Now()
	c.mu.Lock()
	c.startedAt = started.UTC()
	c.mu.Unlock()
	p, err := startProc(fmt.Sprintf("kessai#%d", n), args,
		filepath.Join(c.logDir, fmt.Sprintf("kessai-%02d.out", n)), filepath.Join(c.logDir, fmt.Sprintf("kessai-%02d.err", n)))
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.kessai = p
	c.mu.Unlock()
	if err := waitHTTP(c.api+"/readyz", 60*time.Second, p); err != nil {
		return fmt.Errorf("kessai start %d: %v\n%s", n, err, tailFile(p.errf, 4000))
	}
	if n == 1 {
		// The banner is written as the listener starts: wait for its
		// last line.
		deadline := time.Now().Add(10 * time.Second)
		var out []byte
		for time.Now().Before(deadline) {
			out, _ = os.ReadFile(p.out)
			if bytes.Contains(out, []byte("kessai admin set-password")) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		m := secretRE.FindSubmatch(out)
		a := adminRE.FindSubmatch(out)
		if m == nil || a == nil {
			return fmt.Errorf("no API key or admin login in the banner:\n%s", out)
		}
		c.sk, c.adminEmail, c.adminPass = string(m[1]), string(a[1]), string(a[2])
	}
	c.t.Logf("kessai start %d ready in %v", n, time.Since(started).Round(time.Millisecond))
	c.mu.Lock()
	close(c.up)
	c.mu.Unlock()
	return nil
}

// River's maintenance jobs and a kill.
//
// The periodic jobs (recovery sweep, renewal scan, outbox sweep, purge)
// are unique in River while queued *or running*. A process killed while
// it runs one leaves the job "running" until River's rescuer takes it
// back, 5 minutes later (jobs.rescueAfter), and until then no process
// can queue that job again: not at its restart, not every minute. In
// production, where an attempt becomes unknown only after 5 minutes
// anyway, that delays recovery by minutes at most (docs/chaos.md); with
// this suite's short stale period it would stall every check after it.
// So the suite kills kessai between maintenance jobs — it aims at payment
// steps, not at River — and counts how often it had to wait.

// maintenanceBusy reports whether the running kessai is inside one of
// River's maintenance jobs now.
func (c *cluster) maintenanceBusy(ctx context.Context) (bool, error) {
	if c.jobsDB == nil {
		var err error
		if c.dbURL == "" {
			c.jobsDB, err = sql.Open("sqlite", "file:"+filepath.Join(c.dataDir, "kessai.db")+"?mode=ro&_pragma=busy_timeout(2000)")
		} else {
			c.jobsDB, err = sql.Open("pgx", c.dbURL)
		}
		if err != nil {
			return false, err
		}
		c.t.Cleanup(func() { c.jobsDB.Close() })
	}
	c.mu.Lock()
	since := c.startedAt
	c.mu.Unlock()
	var n int
	var err error
	if c.dbURL == "" {
		// River's SQLite driver keeps times as UTC text.
		err = c.jobsDB.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state = 'running' AND queue = 'maintenance' AND attempted_at >= ?`,
			since.Format("2006-01-02 15:04:05.000")).Scan(&n)
	} else {
		err = c.jobsDB.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE state = 'running' AND queue = 'maintenance' AND attempted_at >= $1`,
			since).Scan(&n)
	}
	return n > 0, err
}

// stuckJobs lists the maintenance jobs left "running" by a killed
// process (see maintenanceBusy).
func (c *cluster) stuckJobs(ctx context.Context) []string {
	if c.jobsDB == nil {
		return nil
	}
	c.mu.Lock()
	since := c.startedAt
	c.mu.Unlock()
	q := `SELECT kind, attempted_at FROM river_job WHERE state = 'running' AND queue = 'maintenance' AND attempted_at < ? ORDER BY id`
	var arg any = since.Format("2006-01-02 15:04:05.000")
	if c.dbURL != "" {
		q, arg = strings.ReplaceAll(q, "?", "$1"), since
	}
	rows, err := c.jobsDB.QueryContext(ctx, q, arg)
	if err != nil {
		return []string{err.Error()}
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind string
		var at any
		if err := rows.Scan(&kind, &at); err != nil {
			return append(out, err.Error())
		}
		out = append(out, fmt.Sprintf("%s (running since %v)", kind, at))
	}
	return out
}

// kill kills kessai with SIGKILL at the next moment it is not inside a
// maintenance job (waiting at most 2 s).
func (c *cluster) kill(ctx context.Context) {
	deadline := time.Now().Add(2 * time.Second)
	waited := false
	for time.Now().Before(deadline) {
		busy, err := c.maintenanceBusy(ctx)
		if err != nil {
			c.t.Logf("reading River's jobs: %v", err)
			break
		}
		if !busy {
			break
		}
		waited = true
		time.Sleep(10 * time.Millisecond)
	}
	if waited {
		c.mu.Lock()
		c.deferred++
		c.mu.Unlock()
	}
	c.crash()
}

// crash kills kessai with SIGKILL; start it again with startKessai.
func (c *cluster) crash() {
	c.mu.Lock()
	p := c.kessai
	c.up = make(chan struct{})
	c.mu.Unlock()
	p.kill()
}

// restart stops kessai gracefully and starts it again: a clean start
// takes River's leadership at once, so recovery and the renewal scan run
// within seconds (after a SIGKILL the dead leader's lease must expire
// first, about 15 s).
func (c *cluster) restart() {
	c.t.Helper()
	c.mu.Lock()
	p := c.kessai
	c.up = make(chan struct{})
	c.mu.Unlock()
	p.stop(20 * time.Second)
	c.startKessai()
}

// waitUp waits until kessai answers again (after a crash) or ctx ends.
func (c *cluster) waitUp(ctx context.Context) error {
	c.mu.Lock()
	up := c.up
	c.mu.Unlock()
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// isUp reports whether kessai is running now.
func (c *cluster) isUp() bool {
	c.mu.Lock()
	up := c.up
	c.mu.Unlock()
	select {
	case <-up:
		return true
	default:
		return false
	}
}

var errDown = errors.New("kessai is down")
