//go:build !unix

package formattest

import "time"

// CPUTime is not measured here: benchmarks report no CPU time.
func CPUTime() time.Duration { return 0 }
