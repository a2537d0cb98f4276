//go:build !race

package elb

const raceEnabled = false
