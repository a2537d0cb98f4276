package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

func TestBurstDrainsAndScalesBackIn(t *testing.T) {
	p, f, l := TemplateDefaults()
	r := Simulate(p, f, l)
	if r.PeakTasks != p.MaxTasks {
		t.Errorf("peak %d tasks, want MaxTasks %d for a burst of %.0f", r.PeakTasks, p.MaxTasks, l.Burst)
	}
	// 20,000 objects at 10 × 240 a minute: about 8 minutes at full size,
	// plus the ramp.
	if r.Drained < 8 || r.Drained > 20 {
		t.Errorf("drained after %d minutes", r.Drained)
	}
	if last := r.Minutes[len(r.Minutes)-1]; last.Running != p.MinTasks || last.Visible > l.Trickle {
		t.Errorf("at the end: %+v, want back at MinTasks with no backlog", last)
	}
	// More tasks drain sooner.
	p.MaxTasks = 20
	if r2 := Simulate(p, f, l); r2.Drained >= r.Drained {
		t.Errorf("20 tasks drained after %d minutes, 10 after %d", r2.Drained, r.Drained)
	}
}

func TestScaleFromZero(t *testing.T) {
	p, f, l := TemplateDefaults()
	p.MinTasks = 0
	l.Burst, l.Trickle = 50, 0
	r := Simulate(p, f, l)
	if r.Minutes[0].Desired != 1 || r.Minutes[0].Running != 0 || r.Drained < 0 {
		t.Errorf("from zero: first minute %+v, drained %d", r.Minutes[0], r.Drained)
	}
	if last := r.Minutes[len(r.Minutes)-1]; last.Running != 0 {
		t.Errorf("idle at the end with %d tasks", last.Running)
	}
	// Target tracking alone (no step policy) would never leave zero: the
	// simulation's ratio at zero tasks is 0, like the template's.
	if r.Minutes[0].BacklogPerRunning != 0 {
		t.Errorf("ratio at zero tasks %v", r.Minutes[0].BacklogPerRunning)
	}
}

// TestDefaultsAreTheTemplates: the simulation starts from the parameters
// deploy/cloudformation.yaml defaults to.
func TestDefaultsAreTheTemplates(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "cloudformation.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	def := func(name string) int {
		m := regexp.MustCompile(`(?m)^  ` + name + `:\n(?:    .*\n)*?    Default: "?([0-9]+)"?`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("no default for %s", name)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	p, _, _ := TemplateDefaults()
	if def("MinTasks") != p.MinTasks || def("MaxTasks") != p.MaxTasks || float64(def("TargetBacklogPerTask")) != p.TargetBacklogPerTask ||
		def("ScaleOutCooldown") != p.ScaleOutCooldown*60 || def("ScaleInCooldown") != p.ScaleInCooldown*60 {
		t.Errorf("template defaults differ from the simulation's %+v", p)
	}
}
