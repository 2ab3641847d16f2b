//go:build !unix

package bench

import "time"

// processCPU is unknown here; the report then shows no CPU per checkout.
func processCPU() time.Duration { return 0 }
