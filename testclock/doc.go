// Package testclock is kessai's shop-level simulated time: a clock that
// reads the real clock plus an offset which only moves forward, so that
// tests and demos can run months of subscription renewals in seconds.
//
// # Decisions
//
// One clock per kessai process. The offset is the process's, not a row
// in the database: this version runs a single shop per deployment, and
// the clock is handed (as Clock.Now) to everything that tells the time for
// that shop — the service (orders, payments, subscriptions and their
// schedules), the job runner and the built-in e-SCOTT simulator — so
// kessai and the simulator move together and the simulator accepts the
// TransactionDate kessai sends. With several kessai instances each has its
// own clock: run clock-driven demos on one instance.
//
// In memory only. A restart returns to real time. Nothing simulated is
// undone by that, or by Reset: orders, renewals and events made while the
// clock was ahead keep their future times (and IDs, which sort by time),
// and a subscription whose next charge is in that future waits for real
// time to reach it. Use a fresh database (or shop) for a clean start.
//
// Forward only. Moving back would make renewals "un-happen" while their
// charges stay at the gateway, and would break the compare-and-set on
// updated_at that keeps concurrent writers apart; Advance refuses it.
// Reset is the one way back, to real time, for the cases above.
//
// Never in production. The clock itself knows nothing of shops; the API
// refuses to advance it unless the shop runs against the built-in
// simulator (a shop on SPS's test environment would send the real gateway
// future dates, and its test card members expire on real time), and the
// wiring resets it when the shop's settings leave the simulator
// (service.Config.SettingsChanged). A deployment without the simulator
// should not create a Clock at all: Now is then the real clock and the
// test-clock API answers 404.
package testclock
