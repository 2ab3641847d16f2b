package leakscan

import (
	stdcontext "context" // the package has a function context
	"database/sql"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	_ "modernc.org/sqlite" // the "sqlite" driver, for DumpSQLite
)

// ScanSQLite scans a SQLite database two ways. Byte by byte, with the
// exact rules only (Rules.ExactCardsOnly: a record glues its columns
// together), go the database file and every file beside it whose name is
// the database's followed by '-' (the write-ahead log, its index, a
// rollback journal, a copy of one of them): only the raw bytes still
// hold deleted rows and old versions of pages. A dump of every row
// (DumpSQLite) gets all of r, for values as a program reads them.
//
// The raw files are read before the dump opens the database, which may
// create a write-ahead log of its own.
func (r *Rules) ScanSQLite(ctx stdcontext.Context, path string) ([]Finding, error) {
	raw := *r
	raw.ExactCardsOnly = true
	out, err := raw.ScanFile(path)
	if err != nil {
		return nil, err
	}
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), base+"-") {
			continue
		}
		f, err := raw.ScanFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, f...)
	}
	dump, err := DumpSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	return append(out, r.Scan(path+" (rows)", dump)...), nil
}

// DumpSQLite renders every row of every table of the SQLite database,
// opened read-only (WAL mode lets it beside a running kessai), as text:
// one line per row, columns separated, blobs (sealed secrets) in base64.
func DumpSQLite(ctx stdcontext.Context, path string) ([]byte, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tables, err := tableNames(ctx, db, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("no tables in %s", path)
	}
	var b strings.Builder
	for _, tbl := range tables {
		rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT * FROM %q`, tbl))
		if err != nil {
			return nil, err
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, err
			}
			b.WriteString(tbl + ":")
			for i, v := range vals {
				switch v := v.(type) {
				case []byte:
					if printableText(v) {
						fmt.Fprintf(&b, " | %s=%s", cols[i], v)
					} else {
						fmt.Fprintf(&b, " | %s=%s", cols[i], base64.StdEncoding.EncodeToString(v))
					}
				default:
					fmt.Fprintf(&b, " | %s=%v", cols[i], v)
				}
			}
			b.WriteString("\n")
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return []byte(b.String()), nil
}

// printableText reports whether a blob is text (JSON, say) rather than
// sealed bytes.
func printableText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// DumpPostgres renders every row of every table of db's current schema
// (search_path) as JSON text, one line per row: what a leak in a
// PostgreSQL installation's data would look like to anyone reading it.
func DumpPostgres(ctx stdcontext.Context, db *sql.DB) ([]byte, error) {
	tables, err := tableNames(ctx, db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("no tables in the current schema")
	}
	var b strings.Builder
	for _, tbl := range tables {
		rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT row_to_json(t)::text FROM %q t`, tbl))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, err
			}
			b.WriteString(tbl + ": " + s + "\n")
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return []byte(b.String()), nil
}

// tableNames runs a query listing table names, one per row.
func tableNames(ctx stdcontext.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		tables = append(tables, n)
	}
	return tables, rows.Err()
}
