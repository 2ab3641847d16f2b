// Package sqlite is kessai's storage on an embedded SQLite database: the
// default, zero-configuration setup of a single instance. It uses the
// pure-Go modernc.org/sqlite driver (no cgo), so the kessai binary stays a
// single static file.
//
// The store itself is sqlstore.Store, shared with package postgres; this
// package opens the file with the right settings and owns the SQLite
// flavour of the schema (migrations/*.sql, embedded, applied by goose).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open SQLite database with kessai's schema: a kessai.Store
// (through the embedded *sqlstore.Store) plus the handle and the
// migrations.
type DB struct {
	*sqlstore.Store
	db       *sql.DB
	migrator sqlstore.Migrator
}

// Dialect is the sqlstore dialect of SQLite.
var Dialect = sqlstore.Dialect{
	Name:                  "sqlite",
	IsUniqueViolation:     isCode(sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY),
	IsForeignKeyViolation: isCode(sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY),
	// Busy and locked can only come from another process here (within
	// the process the pool has one connection), e.g. `kessai migrate`
	// or an admin command next to a running server, after busy_timeout
	// has already waited 5 s; a few more tries cover a long write there.
	IsRetryable:   isPrimary(sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED),
	MaxTxAttempts: 3,
}

// isCode matches extended result codes.
func isCode(codes ...int) func(error) bool {
	return func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		for _, c := range codes {
			if e.Code() == c {
				return true
			}
		}
		return false
	}
}

// isPrimary matches primary result codes (the low byte), whatever the
// extended code (SQLITE_BUSY_SNAPSHOT, …).
func isPrimary(codes ...int) func(error) bool {
	return func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		for _, c := range codes {
			if e.Code()&0xff == c {
				return true
			}
		}
		return false
	}
}

// Memory is the path that opens a private in-memory database (for tests
// and demos; it is gone when the DB is closed).
const Memory = ":memory:"

// Open opens (creating it and its directory if needed) the SQLite database
// at path, brings its schema up to date and returns it. Secrets are sealed
// with sealer.
//
// Connection settings, and why:
//   - journal_mode=WAL: readers never block the writer nor it them, and a
//     commit appends to the log instead of rewriting pages;
//   - synchronous=NORMAL: with WAL, a commit is durable against a process
//     crash and the database can never be corrupted; only a power loss
//     may forget the last transactions — the trade SQLite recommends for
//     WAL, and a large saving (no fsync per commit);
//   - busy_timeout=5000: another process holding the lock (a CLI command
//     next to the server) is waited for, not failed;
//   - foreign_keys=on: SQLite leaves them off by default;
//   - _txlock=immediate: transactions take the write lock at BEGIN, so
//     writers queue at the start instead of failing halfway when a read
//     transaction tries to become a write transaction (SQLITE_BUSY that
//     no timeout can resolve).
//
// The pool has exactly one connection: SQLite has one writer at a time
// anyway, and queuing in Go's pool is fair and immediate, whereas several
// connections would wait for each other in SQLite's busy handler, which
// sleeps and polls. River, the job queue, recommends the same for SQLite.
// Reads wait behind a running transaction too, but transactions are short
// by design (no network call inside, principle 3) and a read of the local
// file takes microseconds. One consequence: inside InTx, use only the
// Store given to the function — the outer one would wait for the only
// connection, which the transaction holds.
func Open(ctx context.Context, path string, sealer kessai.Sealer) (*DB, error) {
	if sealer == nil {
		return nil, errors.New("sqlite: Open needs a sealer")
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	if path != Memory {
		// The path is given to SQLite as a plain file name (not a file:
		// URI, whose % escapes and # would change its meaning); the
		// driver cuts its own parameters at the first '?'.
		if path == "" || strings.ContainsRune(path, '?') {
			return nil, fmt.Errorf("sqlite: unusable database path %q", path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create directory: %w", err)
		}
		q.Add("_pragma", "journal_mode(WAL)")
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	// Keep the connection for ever: it carries the pragmas, and for an
	// in-memory database it is the database.
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		db.Close()
		return nil, err
	}
	d := &DB{
		Store:    sqlstore.New(db, Dialect, sealer),
		db:       db,
		migrator: sqlstore.Migrator{DB: db, Dialect: goose.DialectSQLite3, FS: sub},
	}
	if _, err := d.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// Migrate applies pending migrations (Open already did) and returns the
// schema version; `kessai migrate` calls it. It is a no-op when the schema
// is current.
func (d *DB) Migrate(ctx context.Context) (int64, error) {
	v, err := d.migrator.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	return v, nil
}

// SchemaVersion returns the database's schema version.
func (d *DB) SchemaVersion(ctx context.Context) (int64, error) { return d.migrator.Version(ctx) }

// LatestVersion returns the version of the newest embedded migration.
func (d *DB) LatestVersion() (int64, error) { return d.migrator.Latest() }

// SQL returns the database handle, for packages that need SQL of their
// own on the same database (the job queue). Its pool has one connection:
// never hold a transaction on it while waiting for the Store, or the
// other way round.
func (d *DB) SQL() *sql.DB { return d.db }

// Close closes the database, first letting SQLite refresh the statistics
// its query planner uses (PRAGMA optimize, which SQLite recommends before
// closing a connection; cheap when nothing changed).
func (d *DB) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = d.db.ExecContext(ctx, "PRAGMA optimize") // an optimisation only: its failure changes nothing
	return d.db.Close()
}
