// Package pgtest gives tests a PostgreSQL schema of their own on the
// project's test server (127.0.0.1:5432, database test, user postgres, or
// KESSAI_TEST_DATABASE_URL). When the server cannot be reached the test
// fails in CI (CI=true), where PostgreSQL is part of the setup, and is
// skipped elsewhere with the reason.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// DefaultURL is the test server when KESSAI_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var server struct {
	once  sync.Once
	url   string
	admin *sql.DB
	err   error
}

// Admin returns a connection for creating and dropping schemas, and the
// server's base URL.
func Admin(t testing.TB) (*sql.DB, string) {
	t.Helper()
	server.once.Do(func() {
		server.url = os.Getenv("KESSAI_TEST_DATABASE_URL")
		if server.url == "" {
			server.url = DefaultURL
		}
		server.admin, server.err = sql.Open("pgx", server.url)
		if server.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.err = server.admin.PingContext(ctx)
	})
	if server.err != nil {
		msg := "PostgreSQL at " + Redact(server.url) + " is unreachable (" + server.err.Error() +
			"); set KESSAI_TEST_DATABASE_URL or start PostgreSQL"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return server.admin, server.url
}

// Redact hides a password in a database URL for messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return u.String()
}

// NewSchemaName returns a random, valid, unquoted schema name.
func NewSchemaName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "kessai_test_" + hex.EncodeToString(b[:])
}

// WithSearchPath adds search_path=schema to a database URL.
func WithSearchPath(base, schema string) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// FreshSchema creates an empty schema, dropped when the test ends, and
// returns a database URL whose search_path is that schema.
func FreshSchema(t testing.TB) string {
	t.Helper()
	admin, base := Admin(t)
	schema := NewSchemaName()
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(base, schema)
}
