//go:build unix

package formattest

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time the process has used, in user and system mode, on
// all its threads (the garbage collector's included). Benchmarks report it
// per GB beside wall time, which other work on a shared machine inflates.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
