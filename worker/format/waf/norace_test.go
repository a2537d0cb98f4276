//go:build !race

package waf

const raceEnabled = false
