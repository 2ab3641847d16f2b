package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// VersionTable is where goose records the applied migrations. It is named
// for kessai rather than goose's default, so that another tool using goose
// on the same database cannot mistake our history for its own.
const VersionTable = "kessai_schema_version"

// Migrator applies a database's embedded migrations with goose.
type Migrator struct {
	DB      *sql.DB
	Dialect goose.Dialect
	// FS holds the numbered .sql files at its root.
	FS fs.FS
	// Options are added to the goose provider's (e.g. a session locker,
	// so that several instances starting at once migrate one at a time).
	Options []goose.ProviderOption
}

func (m Migrator) provider() (*goose.Provider, error) {
	opts := append([]goose.ProviderOption{
		goose.WithTableName(VersionTable),
		// Only the embedded SQL files count: a Go migration registered
		// globally by some other package must never run on our schema.
		goose.WithDisableGlobalRegistry(true),
	}, m.Options...)
	p, err := goose.NewProvider(m.Dialect, m.DB, m.FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	return p, nil
}

// Up applies every pending migration and returns the schema version
// reached. Running it again is a no-op.
func (m Migrator) Up(ctx context.Context) (int64, error) {
	p, err := m.provider()
	if err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("sqlstore: migrate up: %w", err)
	}
	return m.version(ctx, p)
}

// Version returns the schema version of the database (0 before the first
// migration).
func (m Migrator) Version(ctx context.Context) (int64, error) {
	p, err := m.provider()
	if err != nil {
		return 0, err
	}
	return m.version(ctx, p)
}

// Latest returns the version of the newest embedded migration: the
// version Up reaches.
func (m Migrator) Latest() (int64, error) {
	p, err := m.provider()
	if err != nil {
		return 0, err
	}
	var v int64
	for _, s := range p.ListSources() {
		v = max(v, s.Version)
	}
	return v, nil
}

func (m Migrator) version(ctx context.Context, p *goose.Provider) (int64, error) {
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: schema version: %w", err)
	}
	return v, nil
}
