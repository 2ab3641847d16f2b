package testclock

import (
	"errors"
	"math"
	"sync/atomic"
	"time"
)

// Errors of Advance.
var (
	// ErrNotForward: the clock only moves forward (see the package
	// decisions); a zero or negative step is refused.
	ErrNotForward = errors.New("testclock: the clock only moves forward")
	// ErrTooFar: the offset would overflow a time.Duration (about 292
	// years), past anything a schedule can mean.
	ErrTooFar = errors.New("testclock: the offset would overflow")
)

// Clock is the base clock plus an offset. It is safe for concurrent use:
// the offset is one atomic integer, so Now takes no lock on the hot path
// (every request and every stored row reads it).
type Clock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds, never negative
}

// New returns a clock at base's time (offset 0). A nil base means
// time.Now.
func New(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base}
}

// Now is the simulated time: base() plus the offset.
func (c *Clock) Now() time.Time {
	return c.base().Add(time.Duration(c.offset.Load()))
}

// Offset is how far the clock is ahead of its base.
func (c *Clock) Offset() time.Duration {
	return time.Duration(c.offset.Load())
}

// Advance moves the clock forward by d (> 0). Concurrent Advances add up:
// neither is lost.
func (c *Clock) Advance(d time.Duration) error {
	if d <= 0 {
		return ErrNotForward
	}
	for {
		cur := c.offset.Load()
		if cur > math.MaxInt64-int64(d) {
			return ErrTooFar
		}
		if c.offset.CompareAndSwap(cur, cur+int64(d)) {
			return nil
		}
	}
}

// Reset returns the clock to its base's time (offset 0).
func (c *Clock) Reset() {
	c.offset.Store(0)
}
