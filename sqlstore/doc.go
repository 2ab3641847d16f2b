// Package sqlstore implements kessai.Store once, on database/sql, for both
// SQLite (package sqlite) and PostgreSQL (package postgres). What differs
// between them is a small Dialect: placeholders, how to recognise a
// unique-key, foreign-key or retryable error, and transaction options.
// Each adapter package owns its migrations and its connection settings.
//
// # Schema
//
// The two schemas are the same tables, columns and indexes, in each
// database's types (sqlite/migrations, postgres/migrations):
//
//   - Ids are TEXT. kessai.NewID puts the creation time first, so ordering
//     by id is ordering by creation; lists page with a plain id cursor
//     ("id < after" newest first, "id > after" oldest first) that an index
//     serves without sorting, and a cursor that was deleted still works.
//   - Money is BIGINT (INTEGER in SQLite) yen.
//   - Times are BIGINT microseconds since the Unix epoch, UTC; NULL for an
//     optional time that is not set. An integer compares, sorts and
//     indexes identically on both databases, whatever the driver's time
//     format or the session's time zone (SQLite has no time type at all,
//     and text times sort wrongly as soon as offsets or precisions mix);
//     microseconds are PostgreSQL's own timestamp precision.
//   - JSON documents (items, billing, metadata, codes, …) are TEXT: the
//     store never queries inside them, and the bytes read back are the
//     bytes written.
//   - Secrets — a payment's ProcessPass, a member's KaiinPass, a webhook
//     endpoint's Secret, the settings document, and stored idempotent
//     responses (which can carry a secret shown once) — are BLOB/BYTEA
//     sealed with the kessai.Sealer given to New. The empty secret is
//     stored as NULL.
//   - Every table has shop_id, every key starts with it and every query
//     filters by it (except the deliberately global ones: FindAPIKey and
//     GetAdminSession by hash, ListUndispatchedEvents, PurgeIdempotency,
//     PurgeAdminSessions). Children reference their parent by
//     (shop_id, id), so a payment cannot point at another shop's order.
//     The one key without shop_id is admin_sessions' primary key, the
//     session token's hash: it is looked up before the shop is known.
//
// # Races
//
// Races are settled by the database, not by reading first: SetOrderStatus
// and FinishAttempt are UPDATE … WHERE status IN (…); PutSettings is an
// UPDATE … WHERE version = expected; BeginIdempotency relies on the
// (shop_id, idem_key) primary key, and replaces an expired record with an
// UPDATE that repeats the expiry condition. Inserts that may hit a unique
// key use INSERT … ON CONFLICT DO NOTHING and report ErrDuplicate when
// nothing was inserted: the outcome of a failing insert, without the
// failure, which on PostgreSQL would abort the caller's whole transaction.
//
// # Errors
//
// Errors wrap kessai.ErrNotFound, ErrDuplicate or ErrConflict (test with
// errors.Is) and name the operation and row; database errors are wrapped
// with %w as well, so the driver's error stays reachable.
package sqlstore
