package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/kessai/kessai"
)

// NewSQLite returns a Runner whose jobs live in the SQLite database db,
// normally the store's own handle (sqlite.DB.SQL()), so River's tables sit
// next to kessai's in one file. The pool's settings (one connection, busy
// timeout, WAL) are the store's: River shares them, which is what River's
// SQLite driver recommends.
func NewSQLite(db *sql.DB, store kessai.Store, opts Options) (*Runner, error) {
	if db == nil {
		return nil, errors.New("jobs: NewSQLite needs a database")
	}
	count := func(ctx context.Context, query string) (int, error) {
		var n int
		err := db.QueryRowContext(ctx, query).Scan(&n)
		return n, err
	}
	// One process owns a SQLite file, so there is no concurrent migration
	// to guard against.
	migrate := func(ctx context.Context, run func(context.Context) error) error { return run(ctx) }
	return newRunner(riversqlite.New(db), store, opts, migrate, count)
}

// NewPostgres returns a Runner whose jobs live in the PostgreSQL database
// of pool. Open the pool with OpenPool from the same URL as the store, so
// River's tables land in the same database and schema (search_path) as
// kessai's; River uses LISTEN/NOTIFY on it to pick up new jobs at once.
func NewPostgres(pool *pgxpool.Pool, store kessai.Store, opts Options) (*Runner, error) {
	if pool == nil {
		return nil, errors.New("jobs: NewPostgres needs a pool")
	}
	count := func(ctx context.Context, query string) (int, error) {
		var n int
		err := pool.QueryRow(ctx, query).Scan(&n)
		return n, err
	}
	migrate := func(ctx context.Context, run func(context.Context) error) error {
		return withAdvisoryLock(ctx, pool, run)
	}
	return newRunner(riverpgxv5.New(pool), store, opts, migrate, count)
}

// OpenPool opens the pgx pool for NewPostgres from the same URL the store
// was opened with (postgres.Open), so River's tables land in the same
// database and schema. It understands the store's URL conventions:
// search_path=<schema> is passed to the server as pgx does anyway, and
// the store's shorthand schema=<schema> is turned into search_path
// instead of being sent as an (unknown) server setting. Pool parameters
// such as pool_max_conns are pgxpool's own.
func OpenPool(ctx context.Context, rawURL string) (*pgxpool.Pool, error) {
	connURL, schema := rawURL, ""
	if strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://") {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("jobs: parse database URL: %w", err)
		}
		q := u.Query()
		schema = q.Get("schema")
		q.Del("schema")
		u.RawQuery = q.Encode()
		connURL = u.String()
	}
	cfg, err := pgxpool.ParseConfig(connURL)
	if err != nil {
		return nil, fmt.Errorf("jobs: parse database URL: %w", err)
	}
	if schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("jobs: connect: %w", err)
	}
	return pool, nil
}

// migrateLockBase is the root of the PostgreSQL advisory lock key that
// serialises River migrations of kessai instances; the key also depends
// on the schema (see withAdvisoryLock).
const migrateLockBase = "kessai-jobs-migrate:"

// withAdvisoryLock runs fn while holding a session advisory lock on a
// connection of its own, because River's migrator checks which versions
// exist and then applies the rest without a lock: two instances starting
// together would otherwise both try to create the same tables. The key is
// derived from the current schema, so deployments (or parallel test runs)
// in different schemas of one database do not wait for each other.
func withAdvisoryLock(ctx context.Context, pool *pgxpool.Pool, fn func(context.Context) error) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection for the migration lock: %w", err)
	}
	defer conn.Release()
	var schema *string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("current schema: %w", err)
	}
	if schema == nil {
		return errors.New("no schema to create River's tables in: the search_path names no existing schema")
	}
	h := fnv.New64a()
	h.Write([]byte(migrateLockBase + *schema))
	key := int64(h.Sum64() >> 1)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx is done: the lock belongs to the session,
		// and the connection goes back to the pool.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key); uerr != nil {
			err = errors.Join(err, fmt.Errorf("release the migration lock: %w", uerr))
			conn.Conn().Close(context.WithoutCancel(ctx)) // ending the session frees the lock for sure
		}
	}()
	return fn(ctx)
}

// runMigrations applies River's pending up migrations for driver.
func runMigrations[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], log *slog.Logger) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: log})
	if err != nil {
		return err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return err
	}
	for _, v := range res.Versions {
		log.InfoContext(ctx, "jobs: applied River migration", slog.Int("version", v.Version), slog.String("name", v.Name))
	}
	return nil
}
