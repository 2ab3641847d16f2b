// Package securitytest attacks a running kessai the way an outsider would.
//
// Every test starts the real product — the `kessai serve` binary, built once
// from ./cmd/kessai in TestMain — as a subprocess on loopback ports, with its
// embedded SQLite database and built-in e-SCOTT simulator, and talks to it
// only over HTTP (plus the `kessai apikey` / `kessai admin` commands an
// operator would run next to it). Nothing is wired by hand, so the suite
// proves the security claims of the documentation (docs/api.md,
// docs/webhooks.md, docs/console.md, docs/hosted-checkout.md, the receiver
// rules in api/receiver.go) for the binary that ships, not for a test
// assembly of its packages:
//
//   - API authentication (apikeys_test.go): missing, malformed, wrong and
//     expired keys (401), the publishable key on every secret operation of
//     docs/openapi.yaml (403), keys neither logged nor stored in plain text;
//   - webhooks (webhook_test.go): the documented headers and signature of
//     real deliveries, and what a receiver must refuse (tampering, a wrong
//     secret, a replay outside the tolerance); secret rotation, secrets shown
//     once, no redirects followed;
//   - forged gateway notifications (notify_test.go): answered as the gateway
//     expects, never believed without the gateway's own 2Ref, applied once;
//   - the admin console (console_test.go): CSRF on every form, the login
//     nonce, cookies and headers, no open redirect, lock-out, read-only role;
//   - the hosted checkout (ratelimit_test.go, hosted_test.go): the rate limit
//     against card testing, forged forms, card data refused and not logged;
//   - settings secrets (secrets_test.go) never leaving kessai: API, console,
//     error answers, logs — and not in plain text at rest.
//
// Each test runs its own instance (about a second to start), in parallel.
//
// TestCheckoutRateLimitBehindAProxy fails on purpose until `kessai serve`
// can take the client address from a trusted reverse proxy: see its
// comment.
package securitytest
