//go:build race

package vpcflow

const raceEnabled = true
