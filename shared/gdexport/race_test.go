//go:build race

package gdexport

const raceEnabled = true
