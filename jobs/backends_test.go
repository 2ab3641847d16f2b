package jobs

import (
	"path/filepath"
	"testing"

	"github.com/kessai/kessai/internal/pgtest"
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

// pgBackend: a fresh schema per test in the test database (internal/pgtest:
// skipped locally when no server answers, a failure in CI), dropped at the
// end; each instance opens its own store pool and River pool with
// search_path set to it.
func pgBackend() backend {
	return backend{name: "postgres", open: func(t *testing.T) func(*testing.T, Options) *instance {
		// The schema's drop is registered first, so it runs after the
		// instances' cleanups (LIFO), when nothing uses the schema any more.
		schemaURL := pgtest.FreshSchema(t)
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
