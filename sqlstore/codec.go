package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Times are stored as BIGINT microseconds since the Unix epoch, UTC.
//
// Why not the databases' own time types: SQLite has none (drivers write
// text in formats of their choosing, whose string order breaks as soon as
// two offsets or precisions mix), and PostgreSQL's timestamptz depends on
// the session time zone for text conversions. An integer compares, sorts
// and indexes identically on both, survives any driver or time-zone
// setting, and microseconds are exactly PostgreSQL's timestamp precision.
// Zero time.Time values of optional fields are stored as NULL.

// micros is t as stored.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is a stored time as the Store returns it: UTC, microseconds.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// norm is t as it will read back from the database: the Store rewrites the
// times of the values it is given with it, so that a value just written
// equals the value read back (reflect.DeepEqual, JSON) — an API response
// built from a created order matches a later GET of it.
func norm(t time.Time) time.Time { return fromMicros(micros(t)) }

// optMicros stores an optional time: the zero time is NULL.
func optMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

func fromOptMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// normOpt normalises an optional time, keeping the zero time zero.
func normOpt(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return norm(t)
}

// JSON columns are TEXT on both databases: the Store never queries inside
// them, and TEXT keeps the bytes exactly as written (PostgreSQL's jsonb
// would reorder keys and drop duplicates).

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlstore: encode JSON column: %w", err)
	}
	return string(b), nil
}

func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("sqlstore: decode JSON column: %w", err)
	}
	return nil
}
