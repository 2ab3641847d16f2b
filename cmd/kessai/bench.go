package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kessai/kessai/internal/bench"
)

// runBench runs a benchmark: `kessai bench card` (issue 4), card
// checkouts through the API against the built-in simulator, `kessai
// bench renewals`, due subscriptions renewed against a simulator with a
// concurrency cap, or `kessai bench report`, the whole suite written as
// the performance report.
func runBench(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "card":
			return runBenchCard(args[1:], os.Stdout, os.Stderr)
		case "renewals":
			return runBenchRenewals(args[1:], os.Stdout, os.Stderr)
		case "report":
			return runBenchReport(args[1:], os.Stdout, os.Stderr)
		}
	}
	fmt.Fprint(os.Stderr, `Usage: kessai bench card|renewals|report [flags]   (kessai bench card -h for flags)

  card      card checkouts through the API against the built-in simulator
  renewals  due subscriptions renewed against a simulator with a concurrency cap
  report    the whole suite, written as a Markdown report with SVG figures (-out docs/report)
`)
	return 2
}

func runBenchCard(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kessai bench card", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", bench.SQLite, "database: sqlite (a temporary file) or postgres (a temporary schema in -database-url)")
	dbURL := fs.String("database-url", os.Getenv("KESSAI_DATABASE_URL"), "PostgreSQL URL for -db postgres (default $KESSAI_DATABASE_URL)")
	dataDir := fs.String("data-dir", "", "directory for the SQLite file (default: a temporary directory, removed afterwards)")
	latency := fs.Duration("latency", 0, "latency the simulator adds to every gateway call, e.g. 150ms")
	jitter := fs.Duration("jitter", 0, "plus a uniformly distributed [0, jitter) per call")
	n := fs.Int("n", bench.DefaultN, "measured checkouts")
	conc := fs.Int("concurrency", bench.DefaultConcurrency, "checkouts in flight at once")
	warmup := fs.Int("warmup", 0, "unmeasured checkouts first (0: one per worker, -1: none)")
	noJobs := fs.Bool("no-jobs", false, "leave the job runner stopped (serve runs it)")
	noAnalyze := fs.Bool("no-analyze", false, "PostgreSQL: skip the ANALYZE after the warm-up (autovacuum would run it on a default server)")
	noIdem := fs.Bool("no-idempotency-key", false, "send no Idempotency-Key (docs/api.md asks shops to send one)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured phase to this file")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `kessai bench card — card checkouts through the JSON API against the built-in simulator

Each checkout creates an order (POST /v1/orders), takes a card token from the
simulator and pays (POST /v1/orders/{id}/pay, 3-D Secure off). "added" is the
/pay call's wall time minus the time of its own gateway round trips.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kessai bench card: unexpected argument %q\n", fs.Arg(0))
		return 2
	}

	opts := bench.Options{DB: *db, DatabaseURL: *dbURL, DataDir: *dataDir, Latency: *latency, Jitter: *jitter, N: *n,
		Concurrency: *conc, Warmup: *warmup, NoJobs: *noJobs, NoAnalyze: *noAnalyze, NoIdempotencyKey: *noIdem}
	if !*asJSON {
		opts.Progress = func(phase string) { fmt.Fprintf(stderr, "%s %s…\n", time.Now().Format("15:04:05"), phase) }
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "kessai bench card: %v\n", err)
			return 1
		}
		defer f.Close()
		opts.CPUProfile = f
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.RunCard(ctx, opts)
	if rep != nil {
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if jerr := enc.Encode(rep); jerr != nil {
				fmt.Fprintf(stderr, "kessai bench card: %v\n", jerr)
				return 1
			}
		} else if werr := rep.WriteTable(stdout); werr != nil {
			fmt.Fprintf(stderr, "kessai bench card: %v\n", werr)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "kessai bench card: %v\n", err)
		return 1
	}
	return 0
}

func runBenchRenewals(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kessai bench renewals", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", bench.SQLite, "database: sqlite (a temporary file) or postgres (a temporary schema in -database-url)")
	dbURL := fs.String("database-url", os.Getenv("KESSAI_DATABASE_URL"), "PostgreSQL URL for -db postgres (default $KESSAI_DATABASE_URL)")
	dataDir := fs.String("data-dir", "", "directory for the SQLite file (default: a temporary directory, removed afterwards)")
	n := fs.Int("n", bench.DefaultRenewalN, "subscriptions due, each renewed once")
	capN := fs.Int("cap", bench.DefaultRenewalCap, "gateway calls the simulator serves at once; more wait in its queue")
	latency := fs.Duration("latency", bench.DefaultRenewalLatency, "time each gateway call takes inside the cap")
	workers := fs.Int("workers", 0, "wakes run at once (default 2 × -cap)")
	amount := fs.Int64("amount", bench.DefaultRenewalAmount, "each renewal's charge in yen")
	warmup := fs.Int("warmup", 0, "renewals before the measured -n (0: 1000, at most n/10; -1: none)")
	noJobs := fs.Bool("no-jobs", false, "leave the job runner stopped (serve runs it)")
	viaJobs := fs.Bool("via-jobs", false, "wake through the job runner (scan, one River job per wake, -workers River workers) instead of the bench's own workers")
	noAnalyze := fs.Bool("no-analyze", false, "PostgreSQL: skip the ANALYZE after the warm-up")
	every := fs.Duration("progress", bench.DefaultProgressEvery, "interval of the progress lines")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured phase to this file")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `kessai bench renewals — due subscriptions renewed against a gateway with a concurrency cap

Seeds -n customers with saved cards (members written directly into the
simulator and the store) and a monthly subscription each, due now; then
-workers goroutines call the renewal engine's Wake for every due
subscription, fed by its Due pages (what the job runner's scan and wake jobs
call). Each renewal makes two gateway calls (4MemRefM, 1Gathering); the
simulator serves at most -cap at once, each taking -latency, so at most
cap ÷ (2 × latency) renewals per second are possible. The report gives the
achieved rate as a fraction of that, the gateway's load, CPU and memory,
and the check that every subscription was charged exactly once.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kessai bench renewals: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	opts := bench.RenewalOptions{DB: *db, DatabaseURL: *dbURL, DataDir: *dataDir, N: *n, Cap: *capN, Latency: *latency,
		Workers: *workers, Amount: *amount, Warmup: *warmup, NoJobs: *noJobs, ViaJobs: *viaJobs, NoAnalyze: *noAnalyze, ProgressEvery: *every}
	// Progress goes to stderr even with -json, so a long run is never
	// silent and stdout stays parseable.
	opts.Progress = func(line string) { fmt.Fprintf(stderr, "%s %s\n", time.Now().Format("15:04:05"), line) }
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "kessai bench renewals: %v\n", err)
			return 1
		}
		defer f.Close()
		opts.CPUProfile = f
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.RunRenewals(ctx, opts)
	if rep != nil {
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if jerr := enc.Encode(rep); jerr != nil {
				fmt.Fprintf(stderr, "kessai bench renewals: %v\n", jerr)
				return 1
			}
		} else if werr := rep.WriteTable(stdout); werr != nil {
			fmt.Fprintf(stderr, "kessai bench renewals: %v\n", werr)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "kessai bench renewals: %v\n", err)
		return 1
	}
	return 0
}

// runBenchReport runs the whole benchmark suite and writes the
// performance report (Markdown, SVG figures, report.json) into a
// directory.
func runBenchReport(args []string, stdout, stderr io.Writer) int {
	opts, code := parseBenchReport(args, stderr)
	if code >= 0 {
		return code
	}
	// Every progress line gets the wall clock too: a long run is read
	// against other things that happened on the machine.
	opts.Progress = func(line string) { fmt.Fprintf(stderr, "%s %s\n", time.Now().Format("15:04:05"), line) }

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.RunFull(ctx, opts)
	if rep != nil {
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(opts.Out, bench.ReportMarkdown))
	}
	if err != nil {
		fmt.Fprintf(stderr, "kessai bench report: %v\n", err)
		return 1
	}
	return 0
}

// parseBenchReport turns the flags into the suite's options. code is -1
// to go on, else the exit code (0 after -h).
func parseBenchReport(args []string, stderr io.Writer) (_ bench.FullOptions, code int) {
	fs := flag.NewFlagSet("kessai bench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "docs/report", "report directory (created; the files of an earlier report there are replaced)")
	db := fs.String("db", bench.SQLite, "sqlite, or postgres to run the database-dependent scenarios on both SQLite and PostgreSQL")
	dbURL := fs.String("database-url", os.Getenv("KESSAI_DATABASE_URL"), "PostgreSQL URL for -db postgres (default $KESSAI_DATABASE_URL); each scenario uses a temporary schema")
	quick := fs.Bool("quick", false, "tiny sizes for a smoke test; the report is marked \"quick — not for quoting\"")
	cardN := fs.Int("card-n", 0, fmt.Sprintf("card checkouts per scenario, at 0 and 150 ms (default %d; -quick %d)", bench.DefaultReportCardN, bench.QuickReportCardN))
	collectN := fs.Int("collect-n", 0, fmt.Sprintf("collection registrations per scenario, at 0 and 150 ms (default %d; -quick %d)", bench.DefaultReportCollectN, bench.QuickReportCollectN))
	notifyN := fs.Int("notify-n", 0, fmt.Sprintf("payment notifications (default %d; -quick %d)", bench.DefaultReportNotifyN, bench.QuickReportNotifyN))
	renewalsN := fs.Int("renewals-n", 0, fmt.Sprintf("due subscriptions renewed against the capped gateway (default %d; -quick %d)", bench.DefaultReportRenewalN, bench.QuickReportRenewalN))
	tlsN := fs.Int("tls-n", 0, fmt.Sprintf("TLS gateway calls of each kind, pooled and with a new handshake (default %d; -quick %d)", bench.DefaultReportTLSN, bench.QuickReportTLSN))
	startupRuns := fs.Int("startup-runs", 0, fmt.Sprintf("starts of kessai serve, the first on a new data directory (default %d; -quick %d)", bench.DefaultReportStartupRuns, bench.QuickReportStartupRuns))
	bin := fs.String("kessai-bin", "", "kessai binary the start-up scenario runs (default: this one)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `kessai bench report — run the whole benchmark suite and write the performance report

Runs, one after the other: card checkouts and collection registrations with
the simulator at 0 ms and at 150 ms per gateway call (added latency p50/p90/p99,
total ÷ gateway time, throughput at 0 ms), payment notifications per second,
renewals against a gateway capped at %d calls of %d ms (as a fraction of the cap),
pooled TLS 1.2 gateway calls against a new handshake per call, and the start-up,
shutdown and memory of kessai serve. With -db postgres the database-dependent
scenarios run on SQLite and on PostgreSQL.

Writes into -out: %s (the report, with the machine and this command),
one SVG file per figure, and %s (every scenario's raw report). The defaults
take about 10–15 minutes on two cores; run it on a quiet machine. Progress goes
to stderr. A failed scenario does not stop the others: the report is written
with the error in it, marked as not to be quoted, and the exit status is 1.

Flags:
`, bench.DefaultRenewalCap, bench.DefaultRenewalLatency.Milliseconds(), bench.ReportMarkdown, bench.ReportJSON)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return bench.FullOptions{}, 0
		}
		return bench.FullOptions{}, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kessai bench report: unexpected argument %q\n", fs.Arg(0))
		return bench.FullOptions{}, 2
	}
	switch *db {
	case bench.SQLite:
	case bench.Postgres:
		if *dbURL == "" {
			fmt.Fprintln(stderr, "kessai bench report: -db postgres needs -database-url or $KESSAI_DATABASE_URL")
			return bench.FullOptions{}, 2
		}
	default:
		fmt.Fprintf(stderr, "kessai bench report: unknown -db %q (sqlite or postgres)\n", *db)
		return bench.FullOptions{}, 2
	}
	for name, v := range map[string]int{"card-n": *cardN, "collect-n": *collectN, "notify-n": *notifyN, "renewals-n": *renewalsN,
		"tls-n": *tlsN, "startup-runs": *startupRuns} {
		if v < 0 {
			fmt.Fprintf(stderr, "kessai bench report: -%s must not be negative\n", name)
			return bench.FullOptions{}, 2
		}
	}
	if *out == "" {
		fmt.Fprintln(stderr, "kessai bench report: -out must name a directory")
		return bench.FullOptions{}, 2
	}
	if *bin == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "kessai bench report: finding this binary for the start-up scenario: %v (use -kessai-bin)\n", err)
			return bench.FullOptions{}, 1
		}
		*bin = exe
	}
	return bench.FullOptions{Out: *out, DB: *db, DatabaseURL: *dbURL, Quick: *quick, CardN: *cardN, CollectN: *collectN,
		NotifyN: *notifyN, RenewalN: *renewalsN, TLSN: *tlsN, StartupRuns: *startupRuns, Bin: *bin,
		Command: reportCommand(args), Version: version}, -1
}

// reportCommand is the command line the report prints: what was typed
// after the program's path (which may be a temporary `go run` binary),
// shell-quoted, with passwords in URLs redacted, since the report is meant
// to be committed.
func reportCommand(args []string) string {
	words := []string{"kessai", "bench", "report"}
	for _, a := range args {
		words = append(words, shellQuote(redactArg(a)))
	}
	return strings.Join(words, " ")
}

// redactArg hides the password of a URL, alone or as -flag=URL.
func redactArg(a string) string {
	prefix, v := "", a
	if strings.HasPrefix(a, "-") {
		if k, val, ok := strings.Cut(a, "="); ok {
			prefix, v = k+"=", val
		}
	}
	if !strings.Contains(v, "://") {
		return a
	}
	u, err := url.Parse(v)
	if err != nil {
		// An unparsable URL may still hold a password: print none of it.
		return prefix + "REDACTED"
	}
	if _, has := u.User.Password(); !has {
		return a
	}
	return prefix + u.Redacted()
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
