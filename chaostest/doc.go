// Package chaostest is kessai's crash and fault suite (design §4: "a
// process killed at any point recovers on restart"; gateway faults end
// in a clear state, "never a lost or doubled charge").
//
// The suite is its tests: TestMain builds the kessai binary, and
// TestChaos runs `kessai sim` as a process of its own — its state, the
// gateway's, must outlive kessai — and `kessai serve -sim-url` against
// it, then:
//
//  1. kills kessai with SIGKILL inside each step of the payment flows —
//     card checkout (1Auth), the 3-D Secure return (the 1Auth after it),
//     collection registration (2Add), payment notification handling
//     (its confirming 2Ref) and subscription renewal (1Gathering) — once
//     while the call waits at the gateway (nothing done there yet) and
//     once after the gateway performed it but before its answer arrived,
//     with several such flows running at once;
//  2. drives concurrent random load through the public API (card orders,
//     3-D Secure, declines, collections paid at the simulator's agent
//     page, saved cards and subscriptions) with 1–5 % of every gateway
//     fault kind injected (latency, timeouts, resets, empty bodies, error
//     codes), killing kessai at random moments;
//  3. lets recovery run, and checks the invariants against the
//     simulator's own state: every charge at the gateway belongs to
//     exactly one payment, no order is charged twice, nothing paid is left
//     unpaid, every uncertain attempt is in the operator's unknown list,
//     and every API answer was a documented one;
//  4. scans the database files, both processes' logs and the webhook
//     payloads for card numbers, security codes, merchant passwords, AES
//     keys, token auth codes and tokens (package internal/leakscan).
//
// It runs on SQLite and, side by side, on PostgreSQL (a fresh schema on
// KESSAI_TEST_DATABASE_URL or the local test server, as internal/pgtest
// gives: skipped when unreachable, a failure in CI; KESSAI_CHAOS_PG=0
// leaves it out). KESSAI_CHAOS_SIZE sets the size (default 30 journeys
// and 5 random kills per database; "300" runs 300 journeys and 50
// kills). KESSAI_CHAOS_KEEP=dir keeps each run's data, logs and webhook
// payloads there; KESSAI_CHAOS_REPORT=file writes the last run's report.
// docs/chaos.md describes the suite and its results.
package chaostest
