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

// runBench runs a benchmark: today only `kessai bench card` (issue 4),
// card checkouts through the API against the built-in simulator.
func runBench(args []string) int {
	if len(args) == 0 || args[0] != "card" {
		fmt.Fprint(os.Stderr, "Usage: kessai bench card [flags]   (kessai bench card -h for flags)\n")
		return 2
	}
	return runBenchCard(args[1:], os.Stdout, os.Stderr)
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
