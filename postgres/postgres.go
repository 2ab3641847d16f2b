// Package postgres is kessai's storage on PostgreSQL, for running several
// instances side by side behind a load balancer. It uses pgx through
// database/sql (github.com/jackc/pgx/v5/stdlib).
//
// The store itself is sqlstore.Store, shared with package sqlite; this
// package opens the pool with the right settings and owns the PostgreSQL
// flavour of the schema (migrations/*.sql, embedded, applied by goose).
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open PostgreSQL database with kessai's schema: a kessai.Store
// (through the embedded *sqlstore.Store) plus the handle and the
// migrations.
type DB struct {
	*sqlstore.Store
	db       *sql.DB
	migrator sqlstore.Migrator
}

// SQLSTATEs the store cares about.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

func isState(states ...string) func(error) bool {
	return func(err error) bool {
		var e *pgconn.PgError
		if !errors.As(err, &e) {
			return false
		}
		for _, s := range states {
			if e.Code == s {
				return true
			}
		}
		return false
	}
}

// Dialect is the sqlstore dialect of PostgreSQL.
//
// Transactions run at REPEATABLE READ. Races between single statements
// are settled by the conditional UPDATEs and unique keys of the store at
// any level; what REPEATABLE READ adds is that a transaction which read a
// row and then writes it fails (40001) if another transaction changed that
// row meanwhile, instead of silently overwriting the change — and InTx
// then runs it again on fresh data. That matches SQLite, where write
// transactions simply run one after another. SERIALIZABLE would also
// catch write skew, but its predicate locks on the right-most index pages
// (our ids are time-ordered, so every insert lands there) would make
// unrelated concurrent checkouts fail and retry.
var Dialect = sqlstore.Dialect{
	Name:                  "postgres",
	Numbered:              true,
	IsUniqueViolation:     isState(uniqueViolation),
	IsForeignKeyViolation: isState(foreignKeyViolation),
	IsRetryable:           isState(serializationFailure, deadlockDetected),
	TxOptions:             &sql.TxOptions{Isolation: sql.LevelRepeatableRead},
	MaxTxAttempts:         5,
}

// DefaultMaxConns is the pool size unless the URL says pool_max_conns.
// kessai's transactions are short and never wait on the network, so a
// modest pool keeps PostgreSQL busy without crowding its max_connections
// when several instances share it.
const DefaultMaxConns = 20

// Open connects to the PostgreSQL database at rawURL (a postgres:// URL or
// a key=value connection string, as pgx accepts), brings its schema up to
// date and returns it. Secrets are sealed with sealer.
//
// Besides pgx's own parameters, the URL may carry:
//   - search_path=<schema>[,…] (a server setting pgx passes on): kessai's
//     tables live in the first schema, which must exist; tests use a fresh
//     schema per run this way;
//   - schema=<schema>: shorthand for search_path=<schema>;
//   - pool_max_conns=<n>: the pool size (default DefaultMaxConns), the
//     same name pgxpool uses.
func Open(ctx context.Context, rawURL string, sealer kessai.Sealer) (*DB, error) {
	if sealer == nil {
		return nil, errors.New("postgres: Open needs a sealer")
	}
	connURL, schema, maxConns, err := splitParams(rawURL)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(connURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse URL: %w", err)
	}
	if schema != "" {
		cfg.RuntimeParams["search_path"] = schema
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	// Recycle connections now and then, so a PostgreSQL fail-over or a
	// load balancer in front of it redistributes them.
	db.SetConnMaxLifetime(time.Hour)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	d, err := open(ctx, db, sealer)
	if err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

func open(ctx context.Context, db *sql.DB, sealer kessai.Sealer) (*DB, error) {
	var current sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
		return nil, fmt.Errorf("postgres: current schema: %w", err)
	}
	if !current.Valid {
		return nil, errors.New("postgres: no schema to create tables in: the search_path names no existing schema")
	}
	// Instances starting together migrate one at a time, under an
	// advisory lock. The lock id is derived from the schema, so that
	// databases in different schemas (parallel test runs) do not wait for
	// each other.
	h := fnv.New64a()
	h.Write([]byte("kessai:" + current.String))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64()>>1)),
		lock.WithLockTimeout(1, 300), // poll every second, for five minutes
	)
	if err != nil {
		return nil, fmt.Errorf("postgres: migration lock: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	d := &DB{
		Store: sqlstore.New(db, Dialect, sealer),
		db:    db,
		migrator: sqlstore.Migrator{DB: db, Dialect: goose.DialectPostgres, FS: sub,
			Options: []goose.ProviderOption{goose.WithSessionLocker(locker)}},
	}
	if _, err := d.Migrate(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// splitParams takes kessai's own parameters (schema, pool_max_conns) out of
// a postgres:// URL, which pgx would otherwise send to the server as
// settings. Key=value connection strings are passed through unchanged.
func splitParams(raw string) (connURL, schema string, maxConns int, err error) {
	maxConns = DefaultMaxConns
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return raw, "", maxConns, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", 0, fmt.Errorf("postgres: parse URL: %w", err)
	}
	q := u.Query()
	schema = q.Get("schema")
	q.Del("schema")
	if v := q.Get("pool_max_conns"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return "", "", 0, fmt.Errorf("postgres: invalid pool_max_conns %q", v)
		}
		maxConns = n
	}
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	return u.String(), schema, maxConns, nil
}

// Migrate applies pending migrations (Open already did) and returns the
// schema version; `kessai migrate` calls it. It is a no-op when the schema
// is current.
func (d *DB) Migrate(ctx context.Context) (int64, error) {
	v, err := d.migrator.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	return v, nil
}

// SchemaVersion returns the database's schema version.
func (d *DB) SchemaVersion(ctx context.Context) (int64, error) { return d.migrator.Version(ctx) }

// LatestVersion returns the version of the newest embedded migration.
func (d *DB) LatestVersion() (int64, error) { return d.migrator.Latest() }

// SQL returns the database handle, for packages that need SQL of their
// own on the same database (the job queue).
func (d *DB) SQL() *sql.DB { return d.db }

// Close closes the pool.
func (d *DB) Close() error { return d.db.Close() }
