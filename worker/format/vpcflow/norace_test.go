//go:build !race

package vpcflow

const raceEnabled = false
