package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kessai/kessai/internal/bench"
)

// runBench runs a benchmark: `kessai bench card` (issue 4), card
// checkouts through the API against the built-in simulator, or `kessai
// bench renewals`, due subscriptions renewed against a simulator with a
// concurrency cap.
func runBench(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "card":
			return runBenchCard(args[1:], os.Stdout, os.Stderr)
		case "renewals":
			return runBenchRenewals(args[1:], os.Stdout, os.Stderr)
		}
	}
	fmt.Fprint(os.Stderr, "Usage: kessai bench card|renewals [flags]   (kessai bench card -h for flags)\n")
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
