//go:build unix

package resolver

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used, in user and system mode,
// on all its threads (the garbage collector's included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
