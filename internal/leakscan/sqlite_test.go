package leakscan

import (
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestScanSQLite: a card in a row is found in the file and in the dump, a
// secret in a blob in the dump (base64), a secret in a side file of the
// database too; digits glued across columns and the files of another
// database are not.
func TestScanSQLite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kessai.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`PRAGMA journal_mode=WAL`,
		`CREATE TABLE payments (id TEXT, free1 TEXT, note TEXT, sealed BLOB)`,
		`INSERT INTO payments VALUES ('pay_06h3wmpcsyd0yas0je9mgaq394', '450123456783', 'card 4012000000000008', x'00ff44454d4f4145534b4559303030303031ff')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	os.WriteFile(path+"-wal.copy", []byte("\x00old page: DEMOTOKENCODE001\x00"), 0o600)
	os.WriteFile(filepath.Join(dir, "other.db-wal"), []byte("\x00DEMOTOKENCODE001\x00"), 0o600)
	r := Rules{Cards: []string{"4012000000000008"},
		Secrets: []Secret{{Name: "AES key", Value: "DEMOAESKEY000001"}, {Name: "token auth code", Value: "DEMOTOKENCODE001"}}}
	fs, err := r.ScanSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, filepath.Base(f.Source)+" "+string(f.Kind)+":"+f.What)
	}
	for _, want := range []string{
		"kessai.db (rows) card_number:card number 401200…0008 (used in the test)",
		"kessai.db (rows) secret:secret AES key (base64)",
		"kessai.db-wal.copy secret:secret token auth code",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("no %q in %q", want, got)
		}
	}
	// The card is in the raw bytes too: the main file or its log.
	if !slices.ContainsFunc(got, func(s string) bool {
		return strings.HasPrefix(s, "kessai.db card_number") || strings.HasPrefix(s, "kessai.db-wal card_number")
	}) {
		t.Errorf("the card is not found in the raw files: %q", got)
	}
	// Nothing else: not the id and the code glued together
	// ("…394" "450123456783"), not the other database's log.
	for _, s := range got {
		if strings.HasPrefix(s, "other.db") || (strings.Contains(s, "card_number") && !strings.Contains(s, "401200…0008")) {
			t.Errorf("unexpected finding %q", s)
		}
	}
}
