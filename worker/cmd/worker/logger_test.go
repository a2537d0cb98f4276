package main

import (
	"bytes"
	"strings"
	"testing"
)

// The logger keeps the lines at its level and above; a level it does not
// know (which the configuration refuses first) stands for info.
func TestNewLoggerLevel(t *testing.T) {
	for _, c := range []struct {
		level      string
		info, warn bool
	}{
		{"warn", false, true},
		{"debug", true, true},
		{"Error", false, false},
		{"loud", true, true},
	} {
		var b bytes.Buffer
		log := newLogger(&b, c.level)
		log.Info("an info line")
		log.Warn("a warn line")
		if got := strings.Contains(b.String(), "an info line"); got != c.info {
			t.Errorf("level %q: info line written %v, want %v", c.level, got, c.info)
		}
		if got := strings.Contains(b.String(), "a warn line"); got != c.warn {
			t.Errorf("level %q: warn line written %v, want %v", c.level, got, c.warn)
		}
	}
}
