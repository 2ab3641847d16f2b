package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/pgtest"
	"github.com/kessai/kessai/postgres"
	"github.com/kessai/kessai/storetest"
)

// The suite opens a store for every subtest. Creating and migrating a
// schema costs a tenth of a second of DDL, more on a small machine, so the
// subtests share one schema per test run, created on first use and
// dropped by TestMain, and each open empties it — a few milliseconds.
var shared struct {
	once   sync.Once
	admin  *sql.DB
	schema string
	url    string
}

// tablesChildFirst lists every table of the schema, children before the
// tables their foreign keys point to, for emptying it.
var tablesChildFirst = []string{
	"webhook_deliveries", "payment_history", "attempts", "subscription_renewals", "payments", "orders", "subscriptions", "events",
	"webhook_endpoints", "members", "idempotency_keys", "api_keys", "settings", "shops",
	"admin_sessions", "admin_users", "checkout_sessions",
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.schema != "" {
		if _, err := shared.admin.Exec(`DROP SCHEMA ` + shared.schema + ` CASCADE`); err != nil {
			fmt.Fprintf(os.Stderr, "drop schema %s: %v\n", shared.schema, err)
			code = 1
		}
	}
	os.Exit(code)
}

// open returns a store on the shared test schema, emptied.
func open(t testing.TB) *postgres.DB {
	t.Helper()
	admin, base := pgtest.Admin(t)
	shared.once.Do(func() {
		schema := pgtest.NewSchemaName()
		if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
			t.Fatal(err)
		}
		shared.admin, shared.schema, shared.url = admin, schema, pgtest.WithSearchPath(base, schema)
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
	for _, name := range tables(t, db) {
		if name != "kessai_schema_version" && !slices.Contains(tablesChildFirst, name) {
			t.Fatalf("table %s is missing from tablesChildFirst", name)
		}
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

// tables lists the tables of the current schema.
func tables(t testing.TB, db *sql.DB) []string {
	t.Helper()
	return storetest.Tables(t, db,
		`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
}

func dump(t *testing.T, s kessai.Store) string {
	db := s.(*postgres.DB).SQL()
	return storetest.DumpTables(t, db, tables(t, db))
}

func TestStore(t *testing.T) {
	pgtest.Admin(t) // skip (or fail in CI) once, not in every subtest
	storetest.Run(t, func(t *testing.T) kessai.Store { return open(t) }, storetest.WithRawDump(dump))
}

func TestSchemaParameter(t *testing.T) {
	// schema=<name> is shorthand for search_path=<name>; the tables land
	// there and nowhere else.
	withPath := pgtest.FreshSchema(t)
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
	_, base := pgtest.Admin(t)
	_, err := postgres.Open(t.Context(), pgtest.WithSearchPath(base, "kessai_no_such_schema"), storetest.TestSealer())
	if err == nil {
		t.Fatal("Open on a missing schema succeeded")
	}
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	url := pgtest.FreshSchema(t)
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
