package bench

// RunFull runs every benchmark of this package in sequence and writes
// kessai's performance report: a Markdown file with SVG figures and the raw
// reports as JSON, so that one command on a quiet machine produces
// figures that can be quoted, together with the machine and the command
// that made them.
//
// The suite, per database (SQLite always; PostgreSQL as well when a URL is
// given, since the two behave differently enough that one says little
// about the other):
//
//   - card checkouts and collection registrations with the simulator
//     answering at once and at 150 ms per gateway call: added latency,
//     the ratio of end-to-end to bare gateway time, and at 0 ms the rate;
//   - payment notifications per second;
//   - renewals against a gateway capped at 16 calls of 50 ms, as a
//     fraction of what the cap allows;
//
// and once, without a database of the bench's own:
//
//   - pooled TLS 1.2 gateway calls against a new handshake per call;
//   - the start-up, shutdown and memory of `kessai serve`.
//
// Around each scenario the bench process's peak RSS is reset and read
// (Linux: /proc/self/clear_refs and VmHWM), so each has its own peak.
//
// A failed scenario does not stop the suite: the others still run, the
// report is written with the error in it and marked as not to be quoted,
// and RunFull returns the errors.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Sizes of the full report's scenarios. They are chosen so that the whole
// suite, on SQLite and PostgreSQL, takes about 10–15 minutes on two cores:
// large enough for a stable p99 (thousands of samples), small enough to be
// run again when the machine was disturbed.
const (
	DefaultReportCardN       = 6000
	DefaultReportCollectN    = 6000
	DefaultReportNotifyN     = 8000
	DefaultReportRenewalN    = 5000
	DefaultReportTLSN        = 3000
	DefaultReportTLSRounds   = 10
	DefaultReportStartupRuns = 10
)

// Sizes of a quick run (FullOptions.Quick): enough to exercise every
// scenario and every part of the report, far too few to quote.
const (
	QuickReportCardN     = 16
	QuickReportCollectN  = 16
	QuickReportNotifyN   = 32
	QuickReportRenewalN  = 40
	QuickReportTLSN      = 20
	QuickReportTLSRounds = 2
	// Two starts: the first on a new data directory, a restart on it.
	QuickReportStartupRuns = 2
)

// The report's fixed conditions. 150 ms is a realistic round trip to the
// gateway from a shop's server; at 0 ms nothing hides kessai's own time.
const (
	ReportSlowLatency = 150 * time.Millisecond
	// reportFastConcurrency keeps two cores busy without queueing most
	// requests behind each other, so the added latency at 0 ms is still
	// mostly kessai's work; reportSlowConcurrency offers about 100
	// checkouts/s at 150 ms (two gateway calls each), below saturation,
	// so the added latency is not queueing either.
	reportFastConcurrency = 4
	reportSlowConcurrency = 32
)

// Scenario names, as in report.json.
const (
	ScenarioCard          = "card"
	ScenarioCollection    = "collection"
	ScenarioNotifications = "notifications"
	ScenarioRenewals      = "renewals"
	ScenarioTLS           = "tls"
	ScenarioStartup       = "startup"
)

// Files of a report directory. Every name the command can write is
// listed, so that a new run first removes what an earlier one left (a
// PostgreSQL figure from a run with PostgreSQL, say) and a directory never
// mixes two runs.
const (
	ReportMarkdown = "README.md"
	ReportJSON     = "report.json"
)

// FullOptions configure RunFull.
type FullOptions struct {
	// Out is the report directory, created if needed.
	Out string
	// DB is SQLite or Postgres. With Postgres (and DatabaseURL) the
	// database-dependent scenarios run on both SQLite and PostgreSQL.
	DB          string
	DatabaseURL string
	// Quick runs tiny sizes (the Quick* constants) for a smoke test; the
	// report says in its first line that it is not for quoting. Sizes
	// set explicitly below still win.
	Quick bool
	// Sizes; zero means the default (or the quick size).
	CardN, CollectN, NotifyN, RenewalN, TLSN, TLSRounds, StartupRuns int
	// Bin is the kessai binary the start-up scenario starts; default
	// os.Executable(), which is right when `kessai bench report` runs it.
	Bin string
	// Command is the command line that made the report, printed in it
	// (secrets redacted by the caller); default os.Args.
	Command string
	// Version is kessai's version, printed in the report.
	Version string
	// Progress, when set, receives one line per scenario and phase, with
	// the time elapsed since the start.
	Progress func(line string)
}

func (o *FullOptions) normalise() error {
	if err := normaliseDB(&o.DB, o.DatabaseURL); err != nil {
		return err
	}
	if o.Out == "" {
		return errors.New("bench: the report needs an output directory")
	}
	size := func(v *int, full, quick int) {
		if *v > 0 {
			return
		}
		*v = full
		if o.Quick {
			*v = quick
		}
	}
	size(&o.CardN, DefaultReportCardN, QuickReportCardN)
	size(&o.CollectN, DefaultReportCollectN, QuickReportCollectN)
	size(&o.NotifyN, DefaultReportNotifyN, QuickReportNotifyN)
	size(&o.RenewalN, DefaultReportRenewalN, QuickReportRenewalN)
	size(&o.TLSN, DefaultReportTLSN, QuickReportTLSN)
	size(&o.TLSRounds, DefaultReportTLSRounds, QuickReportTLSRounds)
	size(&o.StartupRuns, DefaultReportStartupRuns, QuickReportStartupRuns)
	if o.Bin == "" {
		bin, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: the kessai binary for the start-up scenario: %w", err)
		}
		o.Bin = bin
	}
	if o.Command == "" {
		o.Command = strings.Join(os.Args, " ")
	}
	return nil
}

// databases are the databases the database-dependent scenarios run on.
func (o *FullOptions) databases() []string {
	if o.DB == Postgres {
		return []string{SQLite, Postgres}
	}
	return []string{SQLite}
}

// FullReport is the outcome of RunFull, and report.json.
type FullReport struct {
	Quick   bool
	Command string
	Version string
	Started time.Time
	Wall    time.Duration
	Machine ReportMachine
	// Sizes are the options the suite ran with (defaults filled in).
	Sizes ReportSizes
	// Scenarios in the order they ran; those not run (interrupted) have
	// an Error and no report.
	Scenarios []*Scenario
}

// ReportSizes are the sizes a suite ran with.
type ReportSizes struct {
	CardN       int `json:"card_n"`
	CollectN    int `json:"collect_n"`
	NotifyN     int `json:"notify_n"`
	RenewalN    int `json:"renewals_n"`
	TLSN        int `json:"tls_n"`
	TLSRounds   int `json:"tls_rounds"`
	StartupRuns int `json:"startup_runs"`
}

// ReportMachine describes the machine more fully than Machine: a report is
// read long after the run, away from the machine.
type ReportMachine struct {
	Machine
	GOMAXPROCS int    `json:"gomaxprocs"`
	MemTotal   uint64 `json:"mem_total_bytes"`
	Kernel     string `json:"kernel"`
	Distro     string `json:"distro"`
	SQLite     string `json:"sqlite"`
	Postgres   string `json:"postgres,omitempty"`
}

// Scenario is one benchmark run of the suite and its raw report (one of
// the pointers is set, even for most failed runs).
type Scenario struct {
	Name        string
	DB          string // "" for the scenarios without a database of their own
	Latency     time.Duration
	Concurrency int
	N           int
	Wall        time.Duration
	// PeakRSS is the bench process's highest resident set during the
	// scenario (VmHWM); PeakRSSOfScenario says it was reset before the
	// scenario, else it is the process's peak so far.
	PeakRSS           uint64
	PeakRSSOfScenario bool
	LoadBefore        string
	LoadAfter         string
	Error             string

	Card         *Report
	Collection   *CollectionReport
	Notification *NotificationReport
	Renewal      *RenewalReport
	TLS          *TLSReport
	Startup      *StartupReport
}

// Failed reports whether the scenario did not complete cleanly.
func (s *Scenario) Failed() bool { return s.Error != "" }

// Label names the scenario for people.
func (s *Scenario) Label() string {
	var name string
	switch s.Name {
	case ScenarioCard:
		name = "card checkouts"
	case ScenarioCollection:
		name = "collection registrations"
	case ScenarioNotifications:
		name = "payment notifications"
	case ScenarioRenewals:
		name = "renewals, capped gateway"
	case ScenarioTLS:
		name = "TLS 1.2: pooled vs handshake"
	case ScenarioStartup:
		name = "kessai serve start-up"
	default:
		name = s.Name
	}
	if s.DB != "" {
		name += " · " + dbName(s.DB)
	}
	if s.Name == ScenarioCard || s.Name == ScenarioCollection {
		name += " · gateway " + fmtLatency(s.Latency)
	}
	return name
}

// shortLabel names the scenario where room is short (a chart's labels).
func (s *Scenario) shortLabel() string {
	name := map[string]string{ScenarioCard: "card", ScenarioCollection: "collection", ScenarioNotifications: "notifications",
		ScenarioRenewals: "renewals", ScenarioTLS: "TLS", ScenarioStartup: "start-up"}[s.Name]
	if name == "" {
		name = s.Name
	}
	if s.DB != "" {
		name += " · " + dbName(s.DB)
	}
	if s.Name == ScenarioCard || s.Name == ScenarioCollection {
		name += " · " + fmtLatency(s.Latency)
	}
	return name
}

func dbName(db string) string {
	switch db {
	case SQLite:
		return "SQLite"
	case Postgres:
		return "PostgreSQL"
	}
	return db
}

func fmtLatency(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
}

// Errors lists the failed scenarios' errors, each with its scenario.
func (r *FullReport) Errors() []string {
	var out []string
	for _, s := range r.Scenarios {
		if s.Failed() {
			out = append(out, s.Label()+": "+s.Error)
		}
	}
	return out
}

// find returns the scenario of that name, database and latency, or nil.
func (r *FullReport) find(name, db string, latency time.Duration) *Scenario {
	for _, s := range r.Scenarios {
		if s.Name == name && s.DB == db && s.Latency == latency {
			return s
		}
	}
	return nil
}

// databases are the databases the report's scenarios ran on, in order.
func (r *FullReport) databases() []string {
	var out []string
	for _, s := range r.Scenarios {
		if s.DB != "" && !contains(out, s.DB) {
			out = append(out, s.DB)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// MarshalJSON writes durations in milliseconds and snake_case names, as
// the other reports do; the raw reports keep their own encoding.
func (s *Scenario) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name              string              `json:"name"`
		Label             string              `json:"label"`
		DB                string              `json:"db,omitempty"`
		LatencyMS         float64             `json:"sim_latency_ms"`
		Concurrency       int                 `json:"concurrency,omitempty"`
		N                 int                 `json:"n"`
		WallMS            float64             `json:"wall_ms"`
		PeakRSS           uint64              `json:"peak_rss_bytes"`
		PeakRSSOfScenario bool                `json:"peak_rss_of_scenario"`
		LoadBefore        string              `json:"loadavg_before,omitempty"`
		LoadAfter         string              `json:"loadavg_after,omitempty"`
		Error             string              `json:"error,omitempty"`
		Card              *Report             `json:"card,omitempty"`
		Collection        *CollectionReport   `json:"collection,omitempty"`
		Notification      *NotificationReport `json:"notifications,omitempty"`
		Renewal           *RenewalReport      `json:"renewals,omitempty"`
		TLS               *TLSReport          `json:"tls,omitempty"`
		Startup           *StartupReport      `json:"startup,omitempty"`
	}{s.Name, s.Label(), s.DB, ms(s.Latency), s.Concurrency, s.N, ms(s.Wall), s.PeakRSS, s.PeakRSSOfScenario, s.LoadBefore,
		s.LoadAfter, s.Error, s.Card, s.Collection, s.Notification, s.Renewal, s.TLS, s.Startup})
}

// MarshalJSON writes report.json.
func (r *FullReport) MarshalJSON() ([]byte, error) {
	errs := r.Errors()
	if errs == nil {
		errs = []string{}
	}
	return json.Marshal(struct {
		Quick     bool          `json:"quick"`
		Quotable  bool          `json:"quotable"`
		Command   string        `json:"command"`
		Version   string        `json:"version,omitempty"`
		Started   time.Time     `json:"started"`
		WallMS    float64       `json:"wall_ms"`
		Machine   ReportMachine `json:"machine"`
		Sizes     ReportSizes   `json:"sizes"`
		Errors    []string      `json:"errors"`
		Scenarios []*Scenario   `json:"scenarios"`
	}{r.Quick, !r.Quick && len(errs) == 0, r.Command, r.Version, r.Started, ms(r.Wall), r.Machine, r.Sizes, errs, r.Scenarios})
}

// suite runs the scenarios one after the other.
type suite struct {
	o     *FullOptions
	rep   *FullReport
	began time.Time
	total int // scenarios planned, for the progress lines
}

// say writes a progress line: the time since the start, the scenario's
// place in the suite and what it is doing.
func (s *suite) say(sc *Scenario, i int, msg string) {
	if s.o.Progress == nil {
		return
	}
	el := time.Since(s.began).Round(time.Second)
	prefix := fmt.Sprintf("%3d:%02d", int(el.Minutes()), int(el.Seconds())%60)
	if sc == nil {
		s.o.Progress(prefix + "  " + msg)
		return
	}
	s.o.Progress(fmt.Sprintf("%s  [%d/%d] %s: %s", prefix, i, s.total, sc.Label(), msg))
}

// step is one planned scenario: its description and how to run it. run
// stores the raw report in the scenario and returns the run's error.
type step struct {
	sc  *Scenario
	run func(ctx context.Context, sc *Scenario, progress func(string)) error
}

// RunFull runs the suite and writes the report into o.Out. It returns the
// report (nil only when the options are invalid) and, when a scenario
// failed or a file could not be written, an error; the report is written
// in either case.
func RunFull(ctx context.Context, o FullOptions) (*FullReport, error) {
	if err := o.normalise(); err != nil {
		return nil, err
	}
	rep := &FullReport{Quick: o.Quick, Command: o.Command, Version: o.Version, Started: time.Now().UTC(),
		Sizes: ReportSizes{CardN: o.CardN, CollectN: o.CollectN, NotifyN: o.NotifyN, RenewalN: o.RenewalN, TLSN: o.TLSN,
			TLSRounds: o.TLSRounds, StartupRuns: o.StartupRuns}}
	s := &suite{o: &o, rep: rep, began: time.Now()}
	// The directory is made first so that a wrong -out fails at once,
	// not after a quarter of an hour of benchmarks.
	if err := prepareOut(o.Out); err != nil {
		return nil, err
	}

	s.say(nil, 0, "describing the machine")
	rep.Machine = describeMachine(ctx, &o)
	steps := s.plan()
	s.total = len(steps)
	for i, st := range steps {
		rep.Scenarios = append(rep.Scenarios, st.sc)
		s.runStep(ctx, i+1, st)
	}
	rep.Machine.LoadAvgAfter = loadAvg()
	rep.Wall = time.Since(s.began)

	s.say(nil, 0, "writing the report into "+o.Out)
	var errs []error
	for _, e := range rep.Errors() {
		errs = append(errs, errors.New(e))
	}
	if err := writeReport(o.Out, rep); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		s.say(nil, 0, fmt.Sprintf("done with %s: the report must not be quoted", plural(len(errs), "error")))
	} else {
		s.say(nil, 0, "done")
	}
	return rep, errors.Join(errs...)
}

// plan lists the scenarios: the database-dependent ones per database,
// then the two without a database of their own.
func (s *suite) plan() []step {
	o := s.o
	var steps []step
	for _, db := range o.databases() {
		base := Options{DB: db, DatabaseURL: o.DatabaseURL}
		// Card checkouts and collection registrations run alike: each at
		// 0 ms and at ReportSlowLatency, with the concurrency that suits it.
		for _, benchmark := range []struct {
			name string
			n    int
			run  func(ctx context.Context, o Options, sc *Scenario) error
		}{
			{ScenarioCard, o.CardN, func(ctx context.Context, o Options, sc *Scenario) (err error) {
				sc.Card, err = RunCard(ctx, o)
				return err
			}},
			{ScenarioCollection, o.CollectN, func(ctx context.Context, o Options, sc *Scenario) (err error) {
				sc.Collection, err = RunCollections(ctx, o)
				return err
			}},
		} {
			for _, lat := range []time.Duration{0, ReportSlowLatency} {
				c := reportFastConcurrency
				if lat > 0 {
					c = reportSlowConcurrency
				}
				steps = append(steps, step{
					sc: &Scenario{Name: benchmark.name, DB: db, Latency: lat, Concurrency: c, N: benchmark.n},
					run: func(ctx context.Context, sc *Scenario, progress func(string)) error {
						co := base
						co.Latency, co.N, co.Concurrency, co.Progress = lat, benchmark.n, c, progress
						return benchmark.run(ctx, co, sc)
					}})
			}
		}
		steps = append(steps, step{
			sc: &Scenario{Name: ScenarioNotifications, DB: db, Concurrency: DefaultConcurrency, N: o.NotifyN},
			run: func(ctx context.Context, sc *Scenario, progress func(string)) error {
				co := base
				co.N, co.Concurrency, co.Progress = o.NotifyN, DefaultConcurrency, progress
				rep, err := RunNotifications(ctx, co)
				sc.Notification = rep
				return err
			}})
		steps = append(steps, step{
			sc: &Scenario{Name: ScenarioRenewals, DB: db, Latency: DefaultRenewalLatency, Concurrency: 2 * DefaultRenewalCap, N: o.RenewalN},
			run: func(ctx context.Context, sc *Scenario, progress func(string)) error {
				rep, err := RunRenewals(ctx, RenewalOptions{DB: db, DatabaseURL: o.DatabaseURL, N: o.RenewalN,
					Cap: DefaultRenewalCap, Latency: DefaultRenewalLatency, Progress: progress})
				sc.Renewal = rep
				return err
			}})
	}
	steps = append(steps, step{
		sc: &Scenario{Name: ScenarioTLS, N: o.TLSN},
		run: func(ctx context.Context, sc *Scenario, progress func(string)) error {
			rep, err := RunTLS(ctx, TLSOptions{N: o.TLSN, Rounds: o.TLSRounds, Progress: progress})
			sc.TLS = rep
			return err
		}})
	steps = append(steps, step{
		sc: &Scenario{Name: ScenarioStartup, N: o.StartupRuns},
		run: func(ctx context.Context, sc *Scenario, progress func(string)) error {
			rep, err := RunStartup(ctx, StartupOptions{Bin: o.Bin, Runs: o.StartupRuns, Progress: progress})
			sc.Startup = rep
			return err
		}})
	return steps
}

// runStep runs one scenario with its own peak RSS and load readings.
func (s *suite) runStep(ctx context.Context, i int, st step) {
	sc := st.sc
	if err := ctx.Err(); err != nil {
		sc.Error = "not run: " + err.Error()
		return
	}
	s.say(sc, i, "start")
	// Give the previous scenario's memory back to the kernel before the
	// peak is reset: what the Go runtime keeps mapped would otherwise
	// count towards this scenario's peak.
	runtime.GC()
	debug.FreeOSMemory()
	sc.PeakRSSOfScenario = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	sc.LoadBefore = loadAvg()
	began := time.Now()
	err := func() (err error) {
		// A scenario that panics must not lose the others' results,
		// which may have taken many minutes.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		return st.run(ctx, sc, func(phase string) { s.say(sc, i, phase) })
	}()
	sc.Wall = time.Since(began)
	sc.LoadAfter = loadAvg()
	sc.PeakRSS = procStatus("VmHWM")
	if err != nil {
		sc.Error = err.Error()
		s.say(sc, i, fmt.Sprintf("FAILED after %s: %v", sc.Wall.Round(time.Millisecond), err))
		return
	}
	s.say(sc, i, fmt.Sprintf("done in %s, peak RSS %s", sc.Wall.Round(time.Millisecond), mib(sc.PeakRSS)))
}

// describeMachine reads what the report says about the machine. Nothing
// here fails the run: a missing figure is printed as unknown.
func describeMachine(ctx context.Context, o *FullOptions) ReportMachine {
	m := ReportMachine{Machine: CurrentMachine(), GOMAXPROCS: runtime.GOMAXPROCS(0), MemTotal: memTotal(), Kernel: kernel(),
		Distro: distro(), SQLite: sqliteVersion(ctx)}
	if o.DB == Postgres {
		m.Postgres = postgresVersion(ctx, o.DatabaseURL)
	}
	return m
}

func memTotal() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && k == "MemTotal" {
			n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return n << 10
		}
	}
	return 0
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// distro is /etc/os-release's PRETTY_NAME.
func distro() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

// sqliteVersion is the SQLite library's version and the Go module that
// carries it (the bench links the same driver as kessai).
func sqliteVersion(ctx context.Context) string {
	v := "unknown"
	if db, err := sql.Open("sqlite", ":memory:"); err == nil {
		_ = db.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&v)
		db.Close()
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "modernc.org/sqlite" {
				v += " (" + d.Path + " " + d.Version + ")"
			}
		}
	}
	return v
}

func postgresVersion(ctx context.Context, url string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", url)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, `SHOW server_version`).Scan(&v); err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return v
}

// prepareOut creates the report directory and removes the files an
// earlier report left there (only names this command writes).
func prepareOut(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: report directory: %w", err)
	}
	for _, name := range append([]string{ReportMarkdown, ReportJSON}, allFigureFiles()...) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("bench: report directory: %w", err)
		}
	}
	return nil
}

// writeReport writes the figures, the Markdown and report.json. The JSON
// comes first: it is the raw data, and the one file that must survive a
// bug in the presentation.
func writeReport(dir string, rep *FullReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: report.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ReportJSON), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	figs := rep.figures()
	for _, f := range figs {
		if err := os.WriteFile(filepath.Join(dir, f.File), []byte(f.SVG), 0o644); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ReportMarkdown), []byte(rep.markdown(figs)), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
