package leakscan

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/kessai/kessai/internal/pgtest"
)

// TestDumpPostgres: every row of every table of the schema is in the
// dump, so a card number written to any column is found by the scan.
func TestDumpPostgres(t *testing.T) {
	db, err := sql.Open("pgx", pgtest.FreshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE orders (id text, note text)`,
		`CREATE TABLE events (id int, body jsonb)`,
		`INSERT INTO orders VALUES ('ord_1', 'card 4111111111111111')`,
		`INSERT INTO events VALUES (1, '{"pass":"s3cr3t-pass"}')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	dump, err := DumpPostgres(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`orders: {"id":"ord_1","note":"card 4111111111111111"}`, `events: {"id":1,"body":{"pass": "s3cr3t-pass"}}`} {
		if !strings.Contains(string(dump), want) {
			t.Errorf("dump lacks %s:\n%s", want, dump)
		}
	}
	fs := (&Rules{Secrets: []Secret{{Name: "merchant password", Value: "s3cr3t-pass"}}}).Scan("dump", dump)
	if len(fs) < 2 {
		t.Errorf("findings %+v", fs)
	}
}
