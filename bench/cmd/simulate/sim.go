package main

import (
	"fmt"
	"io"
	"math"
)

// Policy is the fleet's scaling, as deploy/cloudformation.yaml sets it up:
// target tracking on visible messages per running task, and a step policy
// that starts the first task when messages wait and none runs.
type Policy struct {
	MinTasks, MaxTasks   int
	TargetBacklogPerTask float64
	// Cooldowns in minutes.
	ScaleOutCooldown, ScaleInCooldown int
	// ScaleInAfter is how many minutes in a row the metric must stay under
	// 90 % of the target before target tracking removes tasks (15 for
	// Application Auto Scaling's scale-in alarm).
	ScaleInAfter int
}

// TemplateDefaults are deploy/cloudformation.yaml's default parameters
// (cooldowns in minutes), a task of the default concurrency 8 clearing
// objects of about 2 s each (4 a second), starting in 2 minutes, and a
// burst of 20,000 objects with 10 a minute after it.
func TemplateDefaults() (Policy, Fleet, Load) {
	return Policy{MinTasks: 1, MaxTasks: 10, TargetBacklogPerTask: 100, ScaleOutCooldown: 1, ScaleInCooldown: 5, ScaleInAfter: 15},
		Fleet{ObjectsPerTaskMinute: 240, StartMinutes: 2},
		Load{Burst: 20000, Trickle: 10, Minutes: 240}
}

// Fleet is what a task does.
type Fleet struct {
	// ObjectsPerTaskMinute is what one running task clears in a minute.
	ObjectsPerTaskMinute float64
	// StartMinutes is how long a new task takes to run (image pull, start).
	StartMinutes int
}

// Load is what arrives: Burst objects at minute 0, then Trickle a minute.
type Load struct {
	Burst   float64
	Trickle float64
	Minutes int
}

// Minute is the state at the end of one simulated minute.
type Minute struct {
	T                 int
	Visible           float64
	Desired, Running  int
	Cleared, Arrived  float64
	BacklogPerRunning float64
}

// Result sums a run up.
type Result struct {
	Minutes []Minute
	// Drained is the first minute the burst's backlog is gone (-1: never).
	Drained     int
	PeakTasks   int
	TaskMinutes int
}

// Simulate runs the policy minute by minute.
func Simulate(p Policy, f Fleet, l Load) Result {
	res := Result{Drained: -1}
	visible := 0.0
	desired := p.MinTasks
	running := p.MinTasks
	starting := map[int]int{} // minute → tasks that start running then
	lastOut, lastIn := -p.ScaleOutCooldown, -p.ScaleInCooldown
	under := 0
	for t := 0; t < l.Minutes; t++ {
		running += starting[t]
		arrived := l.Trickle
		if t == 0 {
			arrived += l.Burst
		}
		visible += arrived
		cleared := math.Min(visible, float64(running)*f.ObjectsPerTaskMinute)
		visible -= cleared

		// The metric the policies see at the end of the minute.
		metric := 0.0
		if running > 0 {
			metric = visible / float64(running)
		}
		want := desired
		switch {
		case running == 0 && visible > 0 && desired == 0:
			want = 1 // the scale-from-zero step policy
		case metric > p.TargetBacklogPerTask && t-lastOut >= p.ScaleOutCooldown:
			want = int(math.Ceil(float64(running) * metric / p.TargetBacklogPerTask))
			under = 0
		case metric < 0.9*p.TargetBacklogPerTask:
			under++
			if under >= p.ScaleInAfter && t-lastIn >= p.ScaleInCooldown && t-lastOut >= p.ScaleOutCooldown {
				want = int(math.Ceil(float64(running) * metric / p.TargetBacklogPerTask))
			}
		default:
			under = 0
		}
		want = max(p.MinTasks, min(p.MaxTasks, want))
		if want > desired {
			starting[t+f.StartMinutes] += want - desired
			lastOut = t
		} else if want < desired {
			running -= min(running, desired-want) // stopped at once
			lastIn, under = t, 0
		}
		desired = want
		res.PeakTasks = max(res.PeakTasks, running)
		res.TaskMinutes += running
		res.Minutes = append(res.Minutes, Minute{T: t, Visible: visible, Desired: desired, Running: running, Cleared: cleared, Arrived: arrived, BacklogPerRunning: metric})
		if res.Drained < 0 && t > 0 && visible <= l.Trickle {
			res.Drained = t
		}
	}
	return res
}

// Print writes the run every step minutes and its summary.
func (r Result) Print(w io.Writer, step int) {
	fmt.Fprintf(w, "%6s %10s %8s %8s %12s\n", "minute", "visible", "desired", "running", "cleared/min")
	for _, m := range r.Minutes {
		if m.T%step == 0 || m.T == r.Drained {
			fmt.Fprintf(w, "%6d %10.0f %8d %8d %12.0f\n", m.T, m.Visible, m.Desired, m.Running, m.Cleared)
		}
	}
	if r.Drained < 0 {
		fmt.Fprintf(w, "the backlog did not drain within %d minutes; peak %d tasks, %d task-minutes\n", len(r.Minutes), r.PeakTasks, r.TaskMinutes)
		return
	}
	fmt.Fprintf(w, "drained after %d minutes; peak %d tasks, %d task-minutes\n", r.Drained, r.PeakTasks, r.TaskMinutes)
}
