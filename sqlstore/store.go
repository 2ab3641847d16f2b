package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kessai/kessai"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store implements kessai.Store on database/sql. The same value works on
// SQLite and PostgreSQL; only its Dialect differs.
//
// A Store made by New runs each method as its own statement (autocommit);
// the Store that InTx passes to its function is bound to one *sql.Tx.
type Store struct {
	db     *sql.DB
	q      querier // db, or the transaction
	tx     *sql.Tx // nil outside InTx
	d      *Dialect
	rb     *rebinder
	sealer kessai.Sealer
}

var _ kessai.Store = (*Store)(nil)

// New returns a Store on db. The schema must already exist (see Migrator).
// sealer encrypts every secret before it is written; it must not be nil,
// since the store never writes a secret in clear.
func New(db *sql.DB, d Dialect, sealer kessai.Sealer) *Store {
	if db == nil || sealer == nil {
		panic("sqlstore: New needs a database and a sealer")
	}
	if d.MaxTxAttempts < 1 {
		d.MaxTxAttempts = 1
	}
	for _, f := range []*func(error) bool{&d.IsUniqueViolation, &d.IsForeignKeyViolation, &d.IsRetryable} {
		if *f == nil {
			*f = func(error) bool { return false }
		}
	}
	return &Store{db: db, q: db, d: &d, rb: &rebinder{numbered: d.Numbered}, sealer: sealer}
}

// Tx returns the transaction the Store is bound to: inside InTx, the
// *sql.Tx that the Store given to fn runs on, so SQL of another package
// (e.g. enqueuing a job) can commit or roll back with the Store's writes;
// nil outside a transaction. Reach it with a type assertion:
//
//	if t, ok := st.(interface{ Tx() *sql.Tx }); ok && t.Tx() != nil { … }
func (s *Store) Tx() *sql.Tx { return s.tx }

// InTx runs fn in one transaction (see kessai.Store). Inside fn, only the
// Store passed to fn is part of the transaction: calling the outer Store
// there runs outside it — and on SQLite, whose pool holds one connection,
// waits for the transaction to end, which is never.
//
// A nested InTx on the transaction's Store reuses the same transaction, so
// an error anywhere rolls back everything.
//
// When the transaction fails with an error the dialect calls retryable
// (SQLite busy, PostgreSQL serialization failure or deadlock), InTx rolls
// back and runs fn again, up to Dialect.MaxTxAttempts times in all, with
// a short jittered pause in between. fn must therefore not have effects
// outside the database that cannot be repeated (it must not call the
// gateway anyway: design principle 3).
func (s *Store) InTx(ctx context.Context, fn func(kessai.Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = s.runTx(ctx, fn)
		if err == nil || !s.d.IsRetryable(err) || attempt >= s.d.MaxTxAttempts {
			return err
		}
		// Exponential backoff with full jitter — a random pause below 2ms,
		// 4ms, 8ms, … at most 64ms — so contending transactions spread out
		// instead of colliding again in lockstep.
		pause := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

func (s *Store) runTx(ctx context.Context, fn func(kessai.Store) error) (err error) {
	tx, err := s.db.BeginTx(ctx, s.d.TxOptions)
	if err != nil {
		return fmt.Errorf("sqlstore: begin transaction: %w", err)
	}
	txs := &Store{db: s.db, q: tx, tx: tx, d: s.d, rb: s.rb, sealer: s.sealer}
	committed := false
	defer func() {
		if !committed {
			// The rollback error is uninteresting next to fn's error or
			// panic, which is what the caller needs to see.
			_ = tx.Rollback()
		}
	}()
	if err := fn(txs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		committed = true // a failed commit has ended the transaction too
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	committed = true
	return nil
}

// exec runs a statement written with '?' placeholders.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.q.ExecContext(ctx, s.rb.rebind(query), args...)
}

// execN runs a statement and returns the number of rows it affected.
func (s *Store) execN(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.q.QueryContext(ctx, s.rb.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.q.QueryRowContext(ctx, s.rb.rebind(query), args...)
}

// exists reports whether query (a SELECT 1 …) finds a row.
func (s *Store) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := s.queryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// fail wraps a database error with the operation it failed in, adding the
// kessai error it stands for (ErrDuplicate for a unique violation,
// ErrNotFound for a missing parent row, ErrNotFound for sql.ErrNoRows) so
// callers can test with errors.Is and still see the cause.
func (s *Store) fail(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlstore: %s: %w", op, kessai.ErrNotFound)
	case s.d.IsUniqueViolation(err):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, kessai.ErrDuplicate, err)
	case s.d.IsForeignKeyViolation(err):
		return fmt.Errorf("sqlstore: %s: referenced row: %w: %w", op, kessai.ErrNotFound, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

func notFound(op string) error { return fmt.Errorf("sqlstore: %s: %w", op, kessai.ErrNotFound) }

func duplicate(op string) error { return fmt.Errorf("sqlstore: %s: %w", op, kessai.ErrDuplicate) }

func conflict(op string) error { return fmt.Errorf("sqlstore: %s: %w", op, kessai.ErrConflict) }

// need refuses empty identifiers early: an empty shop or row id is always a
// bug in the caller, and storing it would make a row nobody can address.
func need(op string, kv ...string) error {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			return fmt.Errorf("sqlstore: %s: empty %s", op, kv[i])
		}
	}
	return nil
}

// seal encrypts a secret; the empty secret is stored as NULL (there is
// nothing to hide, and "not set yet" is common, e.g. a payment's
// ProcessPass before the gateway answered).
func (s *Store) seal(plain string) ([]byte, error) {
	if plain == "" {
		return nil, nil
	}
	return s.sealBytes([]byte(plain))
}

func (s *Store) sealBytes(plain []byte) ([]byte, error) {
	if len(plain) == 0 {
		return nil, nil
	}
	b, err := s.sealer.Seal(plain)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: seal: %w", err)
	}
	return b, nil
}

func (s *Store) open(sealed []byte) (string, error) {
	b, err := s.openBytes(sealed)
	return string(b), err
}

func (s *Store) openBytes(sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	b, err := s.sealer.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sealed value: %w", err)
	}
	return b, nil
}

// Page limits.
const (
	// DefaultLimit is used when a Page has no (or a negative) Limit.
	DefaultLimit = 100
	// MaxLimit caps Page.Limit, so one request cannot read a whole table.
	MaxLimit = 1000
)

func limit(p kessai.Page) int {
	switch {
	case p.Limit <= 0:
		return DefaultLimit
	case p.Limit > MaxLimit:
		return MaxLimit
	}
	return p.Limit
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	if n == 0 {
		return ""
	}
	b := make([]byte, 0, 3*n)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',', ' ')
		}
		b = append(b, '?')
	}
	return string(b)
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// get runs a query expected to return one row and scans it; no row is
// ErrNotFound.
func get[T any](ctx context.Context, s *Store, op string, scan func(scanner) (*T, error), query string, args ...any) (*T, error) {
	v, err := scan(s.queryRow(ctx, query, args...))
	if err != nil {
		return nil, s.fail(op, err)
	}
	return v, nil
}

// list runs a query and scans every row.
func list[T any](ctx context.Context, s *Store, op string, scan func(scanner) (*T, error), query string, args ...any) ([]T, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, s.fail(op, err)
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(op, err)
	}
	return out, nil
}
