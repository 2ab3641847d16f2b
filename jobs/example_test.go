package jobs_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kessai/kessai/jobs"
	"github.com/kessai/kessai/postgres"
	"github.com/kessai/kessai/secret"
	"github.com/kessai/kessai/sqlite"
)

// Wiring on the default SQLite database: River shares the store's handle.
func ExampleNewSQLite() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	keys, err := secret.LoadKeyring(os.Getenv, "kessai-data")
	if err != nil {
		log.Fatal(err)
	}
	db, err := sqlite.Open(ctx, "kessai-data/kessai.db", keys)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	runner, err := jobs.NewSQLite(db.SQL(), db, jobs.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := runner.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	// Start with a context that outlives the signal: Stop is the graceful end.
	if err := runner.Start(context.WithoutCancel(ctx)); err != nil {
		log.Fatal(err)
	}
	// Give the service runner.Kick (after events are committed) and runner
	// (service.Resender), and the metrics runner.Backlog / runner.QueueDepth.

	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := runner.Stop(stopCtx); err != nil {
		log.Print(err)
	}
}

// Wiring on PostgreSQL: a pgx pool from the store's URL, so River's tables
// share the database and schema; several instances may run at once.
func ExampleNewPostgres() {
	ctx := context.Background()
	url := "postgres://kessai@db.internal:5432/kessai?search_path=kessai"
	keys, err := secret.LoadKeyring(os.Getenv, "kessai-data")
	if err != nil {
		log.Fatal(err)
	}
	db, err := postgres.Open(ctx, url, keys)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	pool, err := jobs.OpenPool(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	runner, err := jobs.NewPostgres(pool, db, jobs.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := runner.Migrate(ctx); err != nil { // instances take turns under an advisory lock
		log.Fatal(err)
	}
	if err := runner.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer runner.Stop(ctx)
}
