package hosted

import (
	"sync"
	"time"
)

// limiter allows at most max events per client within a sliding window.
// It is in memory and per instance: the point is to make card testing
// slow and noisy (design §4), not to meter precisely.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	hits   map[string][]time.Time
}

// maxClients bounds the memory of the limiter; beyond it, clients idle
// for a whole window are forgotten.
const maxClients = 10000

func newLimiter(max int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, now: now, hits: map[string][]time.Time{}}
}

// allow records an event of client and reports whether it is within the
// limit. A refused event is not recorded, so a client that waits gets
// through again after the window.
func (l *limiter) allow(client string) bool {
	now := l.now()
	cut := now.Add(-l.window)
	l.mu.Lock()
	defer l.mu.Unlock()
	hs := l.hits[client]
	i := 0
	for i < len(hs) && !hs[i].After(cut) {
		i++
	}
	hs = hs[i:]
	if len(hs) >= l.max {
		l.hits[client] = hs
		return false
	}
	l.hits[client] = append(hs, now)
	if len(l.hits) > maxClients {
		for k, v := range l.hits {
			if len(v) == 0 || !v[len(v)-1].After(cut) {
				delete(l.hits, k)
			}
		}
	}
	return true
}
