// Command simulate replays a burst of objects (say, a day of an
// organization's exports arriving at once, or a backfill enqueued) and a
// steady trickle through the fleet's scaling policies, minute by minute,
// with a per-task rate taken from measurements, and prints the task count
// and the backlog over time and the time to drain: the template's defaults
// are chosen from these numbers (docs/capacity.md).
//
//	go run ./bench/cmd/simulate -burst 50000 -trickle 20 -objects-per-task-minute 240
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	p, f, l := TemplateDefaults()
	step := flag.Int("every", 5, "print every this many minutes")
	flag.IntVar(&p.MinTasks, "min-tasks", p.MinTasks, "MinTasks")
	flag.IntVar(&p.MaxTasks, "max-tasks", p.MaxTasks, "MaxTasks")
	flag.Float64Var(&p.TargetBacklogPerTask, "target-backlog-per-task", p.TargetBacklogPerTask, "TargetBacklogPerTask")
	flag.IntVar(&p.ScaleOutCooldown, "scale-out-cooldown", p.ScaleOutCooldown, "ScaleOutCooldown, minutes")
	flag.IntVar(&p.ScaleInCooldown, "scale-in-cooldown", p.ScaleInCooldown, "ScaleInCooldown, minutes")
	flag.IntVar(&p.ScaleInAfter, "scale-in-after", p.ScaleInAfter, "minutes under the target before target tracking scales in")
	flag.Float64Var(&f.ObjectsPerTaskMinute, "objects-per-task-minute", f.ObjectsPerTaskMinute, "objects one task clears a minute (measure yours: logtide_messages_deleted_total)")
	flag.IntVar(&f.StartMinutes, "start-minutes", f.StartMinutes, "minutes a new task takes to run")
	flag.Float64Var(&l.Burst, "burst", l.Burst, "objects arriving at minute 0")
	flag.Float64Var(&l.Trickle, "trickle", l.Trickle, "objects arriving every minute")
	flag.IntVar(&l.Minutes, "minutes", l.Minutes, "minutes simulated")
	flag.Parse()
	if p.MinTasks < 0 || p.MaxTasks < max(1, p.MinTasks) || p.TargetBacklogPerTask <= 0 || f.ObjectsPerTaskMinute <= 0 || l.Minutes < 1 || *step < 1 {
		fmt.Fprintln(os.Stderr, "simulate: want 0 ≤ min-tasks ≤ max-tasks, max-tasks ≥ 1, and positive target, rate, minutes and -every")
		os.Exit(2)
	}
	fmt.Printf("burst %.0f objects, then %.0f a minute; tasks %d..%d, target %.0f visible per task, %.0f objects per task-minute, tasks start in %d min\n",
		l.Burst, l.Trickle, p.MinTasks, p.MaxTasks, p.TargetBacklogPerTask, f.ObjectsPerTaskMinute, f.StartMinutes)
	Simulate(p, f, l).Print(os.Stdout, *step)
}
