package testclock_test

import (
	"fmt"
	"time"

	"github.com/kessai/kessai/testclock"
)

// The clock is handed, as its Now method, to everything that tells the
// shop's time (service.Config.Now, jobs.Config.Now, gateway.Config.Now,
// sim.Config.Now), so they all move together.
func Example() {
	base := time.Date(2026, 1, 31, 14, 30, 0, 0, time.UTC)
	clock := testclock.New(func() time.Time { return base })
	now := clock.Now // what the wiring passes around

	if err := clock.Advance(29 * 24 * time.Hour); err != nil {
		panic(err)
	}
	fmt.Println(now().Format(time.DateOnly), clock.Offset())
	fmt.Println(clock.Advance(-time.Hour))
	clock.Reset()
	fmt.Println(now().Format(time.DateOnly), clock.Offset())
	// Output:
	// 2026-03-01 696h0m0s
	// testclock: the clock only moves forward
	// 2026-01-31 0s
}
