//go:build race

package guardduty

const raceEnabled = true
