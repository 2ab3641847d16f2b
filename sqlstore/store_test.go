package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/sqlstore"
	"github.com/kessai/kessai/storetest"
)

var errRetry = errors.New("retry me")

func newStore(t *testing.T, attempts int) *sqlstore.Store {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return sqlstore.New(db, sqlstore.Dialect{
		Name:          "test",
		IsRetryable:   func(err error) bool { return errors.Is(err, errRetry) },
		MaxTxAttempts: attempts,
	}, storetest.TestSealer())
}

func TestInTxRetry(t *testing.T) {
	cases := []struct {
		name     string
		attempts int
		failures int   // how many runs of fn fail first
		fail     error // with what
		runs     int
		wantErr  error
	}{
		{"no failure", 3, 0, errRetry, 1, nil},
		{"retried until success", 3, 2, errRetry, 3, nil},
		{"bounded", 3, 10, errRetry, 3, errRetry},
		{"other errors are not retried", 3, 10, kessai.ErrConflict, 1, kessai.ErrConflict},
		{"one attempt", 0, 10, errRetry, 1, errRetry},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t, c.attempts)
			runs := 0
			err := s.InTx(t.Context(), func(tx kessai.Store) error {
				runs++
				if tx.(*sqlstore.Store).Tx() == nil {
					t.Fatal("the Store given to fn has no transaction")
				}
				if runs <= c.failures {
					return c.fail
				}
				return nil
			})
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Fatalf("InTx = %v, want %v", err, c.wantErr)
			}
			if runs != c.runs {
				t.Fatalf("fn ran %d times, want %d", runs, c.runs)
			}
			if s.Tx() != nil {
				t.Fatal("the outer Store has a transaction")
			}
		})
	}
}

func TestInTxRetryStopsOnCancel(t *testing.T) {
	s := newStore(t, 100)
	ctx, cancel := context.WithCancel(t.Context())
	runs := 0
	err := s.InTx(ctx, func(kessai.Store) error {
		runs++
		if runs == 2 {
			cancel()
		}
		return errRetry
	})
	if !errors.Is(err, context.Canceled) || runs > 3 {
		t.Fatalf("InTx = %v after %d runs, want context.Canceled soon", err, runs)
	}
}
