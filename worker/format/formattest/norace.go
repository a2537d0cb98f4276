//go:build !race

package formattest

// Race tells whether the race detector is on: tests that measure time or
// memory use smaller inputs under it.
const Race = false
