package paytest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// FuzzTB is the testing.TB a fuzz target's environment is built with. The
// environments log through their T, which a running fuzz target's
// *testing.F may not be called for; FuzzTB drops the lines but counts the
// ones that report a recovered panic, so a target can fail the input that
// caused one (a handler that recovers answers 500, which a target checks
// too, but the panic is the finding).
type FuzzTB struct {
	testing.TB
	panics atomic.Int64
	mu     sync.Mutex
	last   string
}

// NewFuzzTB wraps f.
func NewFuzzTB(f testing.TB) *FuzzTB { return &FuzzTB{TB: f} }

// Log drops the line, counting it if it reports a panic.
func (q *FuzzTB) Log(args ...any) { q.saw(fmt.Sprint(args...)) }

// Logf drops the line, counting it if it reports a panic.
func (q *FuzzTB) Logf(format string, args ...any) { q.saw(fmt.Sprintf(format, args...)) }

func (q *FuzzTB) saw(s string) {
	if strings.Contains(s, "panic") {
		q.mu.Lock()
		q.last = s
		q.mu.Unlock()
		q.panics.Add(1)
	}
}

// Panics is how many logged lines reported a panic so far.
func (q *FuzzTB) Panics() int64 { return q.panics.Load() }

// LastPanic is the last such line.
func (q *FuzzTB) LastPanic() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.last
}
