package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/sqlite"
	"github.com/kessai/kessai/storetest"
)

func open(t testing.TB) *sqlite.DB {
	t.Helper()
	// A nested path: Open creates the directory.
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "data", "kessai.db"), storetest.TestSealer())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func dump(t *testing.T, s kessai.Store) string {
	db := s.(*sqlite.DB).SQL()
	tables := storetest.Tables(t, db, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	return storetest.DumpTables(t, db, tables)
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kessai.Store { return open(t) }, storetest.WithRawDump(dump))
}

func TestMemory(t *testing.T) {
	db, err := sqlite.Open(t.Context(), sqlite.Memory, storetest.TestSealer())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateShop(t.Context(), &kessai.Shop{ID: kessai.DefaultShopID, Name: "demo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetShop(t.Context(), kessai.DefaultShopID); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSettings(t *testing.T) {
	db := open(t)
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "5000",
		"synchronous":  "1", // NORMAL
	} {
		var got string
		if err := db.SQL().QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if n := db.SQL().Stats().MaxOpenConnections; n != 1 {
		t.Errorf("MaxOpenConnections = %d, want 1", n)
	}
}

func TestMigrate(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kessai.db")
	db, err := sqlite.Open(ctx, path, storetest.TestSealer())
	if err != nil {
		t.Fatal(err)
	}
	latest, err := db.LatestVersion()
	if err != nil || latest < 1 {
		t.Fatalf("latest version %d, %v", latest, err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != latest {
		t.Fatalf("schema version after Open = %d, %v; want %d", v, err, latest)
	}
	// Twice more: nothing to do, same version.
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

	// Reopening an existing database migrates nothing and keeps the data.
	db, err = sqlite.Open(ctx, path, storetest.TestSealer())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.SchemaVersion(ctx); err != nil || v != latest {
		t.Fatalf("schema version after reopen = %d, %v", v, err)
	}
	if _, err := db.GetShop(ctx, "shop_keep"); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkCreateOrder(b *testing.B) { storetest.BenchCreateOrder(b, open(b)) }

func BenchmarkBeginIdempotency(b *testing.B) { storetest.BenchBeginIdempotency(b, open(b)) }
