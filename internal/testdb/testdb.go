// Package testdb runs a test on every database kessai supports, with a
// fresh, migrated store each: SQLite in memory and PostgreSQL in a schema
// of its own (internal/pgtest: skipped locally when no server answers, a
// failure in CI). Packages above the store (service, api) use it so that
// their behaviour — transactions, unique keys, concurrency — is checked
// on both databases and not only on the one that is quick to open.
package testdb

import (
	"database/sql"
	"sync"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/pgtest"
	"github.com/kessai/kessai/postgres"
	"github.com/kessai/kessai/sqlite"
	"github.com/kessai/kessai/storetest"
)

// A Backend opens stores of one database kind.
type Backend struct {
	// Name is the subtest name: "sqlite" or "postgres".
	Name string
	// Open returns an empty, migrated store, closed when t ends. Stores
	// opened in one test are independent of each other.
	Open func(t testing.TB) kessai.Store
}

// SQLite opens a private in-memory database: about ten milliseconds.
var SQLite = Backend{Name: "sqlite", Open: func(t testing.TB) kessai.Store {
	t.Helper()
	db, err := sqlite.Open(t.Context(), sqlite.Memory, storetest.TestSealer())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}}

// Postgres creates a schema, dropped when t ends, and migrates it: about
// a tenth of a second of DDL, so open one per test rather than per case.
var Postgres = Backend{Name: "postgres", Open: func(t testing.TB) kessai.Store {
	t.Helper()
	url := pgtest.FreshSchema(t)
	db, err := postgres.Open(t.Context(), url, storetest.TestSealer())
	if err != nil {
		t.Fatal(err)
	}
	// Registered after FreshSchema's cleanup, so it runs first (LIFO):
	// the pool is closed before the schema is dropped.
	t.Cleanup(func() { db.Close() })
	return db
}}

// All are the backends Run runs on.
var All = []Backend{SQLite, Postgres}

// Run runs f once per backend, as parallel subtests named after it, and
// marks t parallel: every store is private to its subtest, and opening a
// PostgreSQL one mostly waits for the server's disk, so tests overlap
// well. Code of t before Run runs before t pauses for the sequential
// tests; a test that must not run alongside others cannot use Run.
func Run(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	t.Parallel()
	for _, b := range All {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// WarmPool opens up to n connections of st's database ahead and leaves
// them idle in its pool. Tests of concurrent requests call it first:
// otherwise, on PostgreSQL, every request but the first waits for a new
// connection — longer than the whole first request takes — and the
// requests that should race each other run one after the other.
func WarmPool(t testing.TB, st kessai.Store, n int) {
	t.Helper()
	db := st.(interface{ SQL() *sql.DB }).SQL()
	n = min(n, db.Stats().MaxOpenConnections) // SQLite has one
	conns := make([]*sql.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n { // all held at once, so the pool must open n
		wg.Go(func() { conns[i], errs[i] = db.Conn(t.Context()) })
	}
	wg.Wait()
	for i, c := range conns {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		c.Close() // back to the pool, which keeps it idle
	}
}
