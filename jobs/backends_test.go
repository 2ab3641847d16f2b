package jobs

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kessai/kessai/postgres"
	"github.com/kessai/kessai/sqlite"
)

// sqliteBackend: a database file in the test's temporary directory; each
// instance opens it anew, as a second process would.
func sqliteBackend() backend {
	return backend{name: "sqlite", open: func(t *testing.T) func(*testing.T, Options) *instance {
		path := filepath.Join(t.TempDir(), "kessai.db")
		return func(t *testing.T, opts Options) *instance {
			t.Helper()
			db, err := sqlite.Open(t.Context(), path, testSealer(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			r, err := NewSQLite(db.SQL(), db, opts)
			if err != nil {
				t.Fatal(err)
			}
			return &instance{store: db, runner: r}
		}
	}}
}

// defaultTestDatabaseURL is the PostgreSQL of the development machine and
// of CI; KESSAI_TEST_DATABASE_URL overrides it.
const defaultTestDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var (
	pgOnce   sync.Once
	pgURL    string
	pgErrMsg string
)

// pgBackend: a fresh schema per test in the test database, dropped at the
// end; each instance opens its own store pool and River pool with
// search_path set to it. Without a reachable server the backend is
// skipped — except in CI (CI=true), where that is a failure, so a broken
// CI database cannot pass silently.
func pgBackend(t *testing.T) backend {
	pgOnce.Do(func() {
		pgURL = os.Getenv("KESSAI_TEST_DATABASE_URL")
		if pgURL == "" {
			pgURL = defaultTestDatabaseURL
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pgURL)
		if err != nil {
			pgErrMsg = err.Error()
			return
		}
		conn.Close(ctx)
	})
	if pgErrMsg != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s is required in CI: %s", redact(pgURL), pgErrMsg)
		}
		t.Logf("skipping PostgreSQL: %s (set KESSAI_TEST_DATABASE_URL)", pgErrMsg)
		return backend{name: "postgres"}
	}
	return backend{name: "postgres", open: func(t *testing.T) func(*testing.T, Options) *instance {
		schema := "jobs_test_" + randHex(6)
		ctx := t.Context()
		conn, err := pgx.Connect(ctx, pgURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// Runs after the instances' cleanups (LIFO), so nothing uses
			// the schema any more.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := pgx.Connect(ctx, pgURL)
			if err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
				return
			}
			defer c.Close(ctx)
			if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
		})
		u, err := url.Parse(pgURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		schemaURL := u.String()

		return func(t *testing.T, opts Options) *instance {
			t.Helper()
			db, err := postgres.Open(t.Context(), schemaURL, testSealer(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			pool, err := OpenPool(t.Context(), schemaURL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			r, err := NewPostgres(pool, db, opts)
			if err != nil {
				t.Fatal(err)
			}
			return &instance{store: db, runner: r}
		}
	}}
}

// redact hides a password in a database URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// openSQLite opens a fresh SQLite database for tests that need no
// receiver or runner.
func openSQLite(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "kessai.db"), testSealer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
