package sqlstore

import (
	"database/sql"
	"strconv"
	"strings"
	"sync"
)

// Dialect is what differs between the databases the Store runs on. It is
// deliberately small: the schema uses only types and statements both
// databases understand the same way, so the SQL text is shared and only
// these few points vary.
//
// There is no hook for upserts: SQLite (3.24+) and PostgreSQL (9.5+) both
// spell them INSERT … ON CONFLICT (cols) DO UPDATE SET c = excluded.c, and
// both accept ON CONFLICT DO NOTHING without a conflict target, which the
// Store uses for every insert that may hit a unique key (see Store).
type Dialect struct {
	// Name names the database in error messages ("sqlite", "postgres").
	Name string
	// Numbered selects PostgreSQL's $1, $2, … placeholders. The Store's
	// SQL is written with '?' and rebound once per distinct statement.
	Numbered bool
	// IsUniqueViolation reports whether err is a unique or primary key
	// violation.
	IsUniqueViolation func(err error) bool
	// IsForeignKeyViolation reports whether err is a foreign key
	// violation (a payment for an order that does not exist, …).
	IsForeignKeyViolation func(err error) bool
	// IsRetryable reports whether a transaction that failed with err may
	// succeed when run again: SQLITE_BUSY/SQLITE_LOCKED on SQLite,
	// serialization failure (40001) or deadlock (40P01) on PostgreSQL.
	IsRetryable func(err error) bool
	// TxOptions are used for every transaction InTx starts. Nil means the
	// driver's default.
	TxOptions *sql.TxOptions
	// MaxTxAttempts bounds how often InTx runs a transaction that keeps
	// failing with a retryable error; values below 1 mean 1.
	MaxTxAttempts int
}

// rebinder turns '?' placeholders into the dialect's and caches the
// result: the Store's statements are a small fixed set (the dynamic ones
// vary only in which filters are present), so the cache stays small.
type rebinder struct {
	numbered bool
	cache    sync.Map // string → string
}

func (r *rebinder) rebind(query string) string {
	if !r.numbered {
		return query
	}
	if q, ok := r.cache.Load(query); ok {
		return q.(string)
	}
	q := Rebind(query)
	r.cache.Store(query, q)
	return q
}

// Rebind rewrites the '?' placeholders of query as $1, $2, … (PostgreSQL).
// Question marks inside single-quoted literals, double-quoted identifiers
// and comments are left alone.
func Rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
