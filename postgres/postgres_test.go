package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the admin connection

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/postgres"
	"github.com/kessai/kessai/storetest"
)

// defaultURL is the CI database: PostgreSQL on the local machine, trust
// authentication.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// server is the PostgreSQL the tests run against, connected once per test
// binary; each store gets a schema of its own, dropped at the end.
var server struct {
	once  sync.Once
	url   string
	admin *sql.DB
	err   error
}

// adminDB returns a connection for creating and dropping schemas. When
// PostgreSQL cannot be reached, the test fails in CI (CI=true), where the
// database is part of the setup, and is skipped elsewhere with the reason.
func adminDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	server.once.Do(func() {
		server.url = os.Getenv("KESSAI_TEST_DATABASE_URL")
		if server.url == "" {
			server.url = defaultURL
		}
		server.admin, server.err = sql.Open("pgx", server.url)
		if server.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.err = server.admin.PingContext(ctx)
	})
	if server.err != nil {
		msg := "PostgreSQL at " + redact(server.url) + " is unreachable (" + server.err.Error() +
			"); set KESSAI_TEST_DATABASE_URL or start PostgreSQL"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return server.admin, server.url
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return u.String()
}

func newSchemaName() string {
	var b [6]byte
	rand.Read(b[:])
	return "kessai_test_" + hex.EncodeToString(b[:])
}

func withSearchPath(base, schema string) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// freshSchema creates an empty schema, dropped when the test ends, and
// returns a database URL whose search_path is that schema.
func freshSchema(t testing.TB) string {
	t.Helper()
	admin, base := adminDB(t)
	schema := newSchemaName()
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(base, schema)
}

// The suite opens a store for every subtest. Creating a schema costs
// about half a second of DDL on a small machine, so the subtests share one
// schema per test run, created on first use and dropped by TestMain, and
// each open empties it — a few milliseconds.
var shared struct {
	once   sync.Once
	schema string
	url    string
}

// tablesChildFirst lists every table of the schema, children before the
// tables their foreign keys point to, for emptying it.
var tablesChildFirst = []string{
	"webhook_deliveries", "payment_history", "attempts", "payments", "orders", "events",
	"webhook_endpoints", "members", "idempotency_keys", "api_keys", "settings", "shops",
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.schema != "" {
		if _, err := server.admin.Exec(`DROP SCHEMA ` + shared.schema + ` CASCADE`); err != nil {
			fmt.Fprintf(os.Stderr, "drop schema %s: %v\n", shared.schema, err)
			code = 1
		}
	}
	os.Exit(code)
}

// open returns a store on the shared test schema, emptied.
func open(t testing.TB) *postgres.DB {
	t.Helper()
	admin, base := adminDB(t)
	shared.once.Do(func() {
		shared.schema = newSchemaName()
		if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+shared.schema); err != nil {
			t.Fatal(err)
		}
		shared.url = withSearchPath(base, shared.schema)
	})
	if shared.url == "" {
		t.Fatal("shared test schema not created")
	}
	db, err := postgres.Open(t.Context(), shared.url, storetest.TestSealer())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	empty(t, db.SQL())
	return db
}

// empty deletes every row of every kessai table, and fails if the schema
// has a table the list does not know (a new migration must be added to
// tablesChildFirst).
func empty(t testing.TB, db *sql.DB) {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'kessai_schema_version'`)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, name := range tablesChildFirst {
		known[name] = true
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !known[name] {
			t.Fatalf("table %s is missing from tablesChildFirst", name)
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, name := range tablesChildFirst {
		if _, err := tx.ExecContext(t.Context(), `DELETE FROM `+name); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func dump(t *testing.T, s kessai.Store) string {
	db := s.(*postgres.DB).SQL()
	rows, err := db.QueryContext(t.Context(),
		`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	return storetest.DumpTables(t, db, tables)
}

func TestStore(t *testing.T) {
	adminDB(t) // skip (or fail in CI) once, not in every subtest
	storetest.Run(t, func(t *testing.T) kessai.Store { return open(t) }, storetest.WithRawDump(dump))
}

func TestSchemaParameter(t *testing.T) {
	// schema=<name> is shorthand for search_path=<name>; the tables land
	// there and nowhere else.
	withPath := freshSchema(t)
	u, err := url.Parse(withPath)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	q.Set("schema", schema)
	q.Set("pool_max_conns", "3")
	u.RawQuery = q.Encode()
	db, err := postgres.Open(t.Context(), u.String(), storetest.TestSealer())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := db.SQL().Stats().MaxOpenConnections; n != 3 {
		t.Errorf("MaxOpenConnections = %d, want 3", n)
	}
	var n int
	err = db.SQL().QueryRowContext(t.Context(),
		`SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'orders'`, schema).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("orders table in %s: %d, %v", schema, n, err)
	}
}

func TestMissingSchema(t *testing.T) {
	_, base := adminDB(t)
	_, err := postgres.Open(t.Context(), withSearchPath(base, "kessai_no_such_schema"), storetest.TestSealer())
	if err == nil {
		t.Fatal("Open on a missing schema succeeded")
	}
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	url := freshSchema(t)
	db, err := postgres.Open(ctx, url, storetest.TestSealer())
	if err != nil {
		t.Fatal(err)
	}
	latest, err := db.LatestVersion()
	if err != nil || latest < 1 {
		t.Fatalf("latest version %d, %v", latest, err)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v != latest {
		t.Fatalf("schema version after Open = %d, %v; want %d", v, err, latest)
	}
	for range 2 {
		v, err := db.Migrate(ctx)
		if err != nil || v != latest {
			t.Fatalf("Migrate = %d, %v; want %d", v, err, latest)
		}
	}
	if err := db.CreateShop(ctx, &kessai.Shop{ID: "shop_keep", Name: "kept"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Several instances starting at once on the same schema: the
	// migration lock lets them all through, none migrates twice.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(ctx, url, storetest.TestSealer())
			if err == nil {
				_, err = db.GetShop(ctx, "shop_keep")
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkCreateOrder(b *testing.B) { storetest.BenchCreateOrder(b, open(b)) }

func BenchmarkBeginIdempotency(b *testing.B) { storetest.BenchBeginIdempotency(b, open(b)) }

// TestSerializationRetry checks the reason for REPEATABLE READ: a
// transaction that read an order and then writes it, while another
// transaction changed the order in between, is not allowed to overwrite
// that change (a lost update); it fails with a serialization error, and
// InTx runs it again on fresh data.
func TestSerializationRetry(t *testing.T) {
	ctx := t.Context()
	db := open(t)
	shop := "shop_retry"
	o := &kessai.Order{ID: kessai.NewID("ord", time.Now()), ShopID: shop, Currency: kessai.Currency,
		Status: kessai.OrderPending, Metadata: map[string]string{}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	runs := 0
	err := db.InTx(ctx, func(tx kessai.Store) error {
		runs++
		got, err := tx.GetOrder(ctx, shop, o.ID) // the transaction's snapshot
		if err != nil {
			return err
		}
		if runs == 1 {
			// Another writer changes the order meanwhile (a separate
			// connection: the pool has several).
			other := *got
			other.Metadata = map[string]string{"other": "yes"}
			if err := db.UpdateOrder(ctx, &other); err != nil {
				return err
			}
		}
		got.Metadata["mine"] = "yes"
		return tx.UpdateOrder(ctx, got)
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Fatalf("transaction ran %d times, want 2 (one serialization failure, one retry)", runs)
	}
	got, err := db.GetOrder(ctx, shop, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata["other"] != "yes" || got.Metadata["mine"] != "yes" {
		t.Fatalf("metadata %v: an update was lost", got.Metadata)
	}
}
