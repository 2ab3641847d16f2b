package testclock_test

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai/testclock"
)

func TestClock(t *testing.T) {
	base := time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC)
	c := testclock.New(func() time.Time { return base })
	if !c.Now().Equal(base) || c.Offset() != 0 {
		t.Fatalf("new clock: %v %v", c.Now(), c.Offset())
	}
	if err := c.Advance(36 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if want := base.Add(36 * time.Hour); !c.Now().Equal(want) || c.Offset() != 36*time.Hour {
		t.Fatalf("advanced: %v %v", c.Now(), c.Offset())
	}
	// The base keeps running underneath the offset.
	base = base.Add(time.Minute)
	if want := base.Add(36 * time.Hour); !c.Now().Equal(want) {
		t.Fatalf("base moved: %v, want %v", c.Now(), want)
	}
	for _, d := range []time.Duration{0, -time.Second} {
		if err := c.Advance(d); !errors.Is(err, testclock.ErrNotForward) {
			t.Fatalf("Advance(%v): %v", d, err)
		}
	}
	if err := c.Advance(math.MaxInt64); !errors.Is(err, testclock.ErrTooFar) {
		t.Fatalf("overflow: %v", err)
	}
	if c.Offset() != 36*time.Hour {
		t.Fatalf("refused advances moved the clock: %v", c.Offset())
	}
	c.Reset()
	if !c.Now().Equal(base) || c.Offset() != 0 {
		t.Fatalf("reset: %v %v", c.Now(), c.Offset())
	}
}

func TestNilBaseIsRealTime(t *testing.T) {
	c := testclock.New(nil)
	before := time.Now()
	now := c.Now()
	if now.Before(before) || now.Sub(before) > time.Minute {
		t.Fatalf("now %v, real %v", now, before)
	}
}

// TestConcurrentAdvance: no advance is lost, and readers never see the
// clock go back (run with -race).
func TestConcurrentAdvance(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := testclock.New(func() time.Time { return base })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if err := c.Advance(time.Second); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		last := c.Now()
		for range 5000 {
			now := c.Now()
			if now.Before(last) {
				t.Errorf("went back: %v after %v", now, last)
				return
			}
			last = now
		}
	})
	wg.Wait()
	if c.Offset() != 8000*time.Second {
		t.Fatalf("offset %v, want %v", c.Offset(), 8000*time.Second)
	}
}
