package main

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/logtide/logtide/bench/internal/bulksink"
	"github.com/logtide/logtide/bench/internal/corpus"
	"github.com/logtide/logtide/bench/internal/floor"
	"github.com/logtide/logtide/bench/internal/report"
	"github.com/logtide/logtide/bench/internal/workerrun"
	"github.com/logtide/logtide/worker/format"
	"github.com/logtide/logtide/worker/format/guardduty"
	"github.com/logtide/logtide/worker/formats"
)

// formatSet is the typical corpus of a log type other than GuardDuty's and
// its own decode floor.
type formatSet struct {
	spec  format.Spec
	set   *corpus.Set
	floor floor.Decode
}

// formatFloors generates each other log type's typical corpus and measures
// its decode floor (the format's own Floor: decompress, cut into records,
// parse the fields), before the servers start, like the GuardDuty floors.
func (b *bench) formatFloors() error {
	if !b.c.rows["formats"] {
		return nil
	}
	for i, spec := range formats.All {
		if spec.Name == guardduty.Name || spec.Floor == nil || (b.c.formats != nil && !b.c.formats[spec.Name]) {
			continue
		}
		records, err := b.formatRecords(spec)
		if err != nil {
			return err
		}
		s, err := corpus.Generate("typical-"+spec.Name, spec, format.GenerateOptions{
			Seed: b.c.seed + 10 + uint64(i), Objects: b.c.formatObjects, RecordsPerObject: records, Prefix: "fmt-" + spec.Name,
		})
		if err != nil {
			return err
		}
		logf("corpus %s: %d objects, %d records, %.1f MB uncompressed, %.1f MB as stored, rendered in %s",
			s.Name, len(s.Objects), s.Lines, float64(s.Raw)/1e6, float64(s.Gz)/1e6, s.GenTime.Round(time.Millisecond))
		d, err := floor.RunFormat(s, spec.Floor, 1500*time.Millisecond, 2000)
		if err != nil {
			return fmt.Errorf("decode floor %s: %w", spec.Name, err)
		}
		logf("decode floor %s: %.1f MB per CPU-s, %.0f records per CPU-s (%d passes)", spec.Name, d.MBPerCPUSecond(), d.LinesPerCPUSecond(), d.Passes)
		b.main.Add("decode floor, "+spec.Name, b.formatLabel(s), fmt.Sprint(len(s.Objects)), fmt.Sprint(s.Lines),
			report.Num(float64(s.Raw)/1e6), report.Num(d.CPU.Seconds()/float64(d.Passes))+" CPU",
			"–", report.Num(d.LinesPerCPUSecond())+" /CPU-s", report.Num(d.MBPerCPUSecond())+" /CPU-s",
			report.Num(d.CPUPerGB()), "–", "floor of "+spec.Name)
		b.formats = append(b.formats, formatSet{spec: spec, set: s, floor: d})
	}
	return nil
}

func (b *bench) formatLabel(s *corpus.Set) string {
	return fmt.Sprintf("%s %d×%d", s.Name, len(s.Objects), s.Lines/max(1, len(s.Objects)))
}

// formatRecords is the records per object that give a format's typical
// corpus about -format-mb uncompressed (records are 100 bytes long in one
// log type, 2 KB in another), or -format-records when it is set: too small
// a corpus and the worker's fixed costs (start, connections, the last
// polls) weigh on its CPU per GB.
func (b *bench) formatRecords(spec format.Spec) (int, error) {
	if b.c.formatRecords > 0 {
		return b.c.formatRecords, nil
	}
	const probe = 1000
	s, err := corpus.Generate("probe-"+spec.Name, spec, format.GenerateOptions{Seed: b.c.seed, Objects: 1, RecordsPerObject: probe, Prefix: "probe"})
	if err != nil {
		return 0, err
	}
	perRecord := float64(s.Raw) / float64(max(1, s.Lines))
	return max(100, int(b.c.formatMB*1e6/perRecord)/b.c.formatObjects), nil
}

// formatRows runs the worker into the discarding sink on each other log
// type's typical corpus, set against that format's floor, then streams a
// large CloudTrail object with others in flight.
func (b *bench) formatRows(ctx context.Context) {
	var cloudTrail *formatSet
	for i := range b.formats {
		fs := &b.formats[i]
		if fs.spec.Name == "cloudtrail" {
			cloudTrail = fs
		}
		for _, ob := range fs.set.Objects {
			if err := b.fake.Put(bucket, ob.Key, ob.Gz); err != nil {
				logf("seeding gofakes3: %v", err)
				return
			}
		}
		name := "discard, " + fs.spec.Name
		// -repeat runs, the median by CPU per GB reported. The first run's
		// bulk requests are kept for the send floor.
		var (
			runs      []*workerRow
			bodyBytes int64
			sent      []bulksink.Request
		)
		for i := range b.c.repeat {
			b.sink.Reset()
			if i == 0 {
				b.sink.Keep(sendSample)
			}
			w := b.runWorker(ctx, workerOpts{name: name, key: fmt.Sprintf("fmt-%s-%d", fs.spec.Name, i+1), set: fs.set, esURL: b.sink.URL})
			if i == 0 {
				// What the worker writes for what it reads: the bulk bodies
				// (action lines and documents) against the uncompressed
				// objects.
				bodyBytes, sent = b.sink.BodyBytes.Load(), b.sink.Kept()
				b.sink.Keep(0)
			}
			runs = append(runs, w)
			if w.err != nil {
				break
			}
		}
		written := float64(bodyBytes) / float64(max(1, fs.set.Raw))
		w := runs[len(runs)-1]
		if w.err == nil {
			if len(runs) > 1 {
				logf("worker %s: CPU-s/GB of the %d runs %s", name, len(runs), cpuPerGBs(runs))
			}
			sort.Slice(runs, func(i, j int) bool { return runs[i].cpuPerGB() < runs[j].cpuPerGB() })
			w = runs[len(runs)/2]
		}
		b.addCPURow(w)
		if w.err != nil {
			b.addMain(w, b.formatLabel(fs.set), "")
			continue
		}
		if b.c.pprof && b.hasPprof && b.c.profileFormats[fs.spec.Name] {
			b.profiledRun(ctx, w, workerOpts{name: name, key: "fmt-" + fs.spec.Name, set: fs.set, esURL: b.sink.URL}, "worker-cpu-"+fs.spec.Name+".pprof")
		}
		ratio := w.cpuPerGB() / fs.floor.CPUPerGB()
		note := fmt.Sprintf("CPU/GB %s %s floor; bulk bodies %s the objects' bytes", report.Ratio(ratio), fs.spec.Name, report.Ratio(written))
		send, err := floor.RunSend(b.sink.URL, sent, bodyBytes)
		if err != nil {
			logf("send floor %s: %v", fs.spec.Name, err)
		} else {
			both := fs.floor.CPUPerGB() + send.CPUPerGB(fs.set.Raw)
			note += fmt.Sprintf("; %s decode + send floors", report.Ratio(w.cpuPerGB()/both))
		}
		b.addMain(w, b.formatLabel(fs.set), note)
		if err == nil {
			b.addSendFloor(fs, send, bodyBytes)
		}
		b.target(ratio <= 2, fmt.Sprintf("worker CPU-s/GB ≤ 2× the %s floor (discard sink)", fs.spec.Name), report.Ratio(ratio))
	}
	if cloudTrail != nil && b.c.cloudTrailHugeGiB > 0 {
		b.cloudTrailHugeRow(ctx, cloudTrail)
	}
}

// cpuPerGBs lists the runs' CPU-s per GB, in run order.
func cpuPerGBs(runs []*workerRow) string {
	var out []string
	for _, w := range runs {
		out = append(out, report.Num(w.cpuPerGB()))
	}
	return strings.Join(out, ", ")
}

// sendSample is how much of a formats row's bulk requests the sink keeps
// for the send floor, which sends them again and again up to the row's
// size: enough requests to average over, little memory.
const sendSample = 64 << 20

// addSendFloor adds the send floor of a formats row: the row's bulk
// requests, as the worker wrote them, sent by a client that does nothing
// else. With the decode floor it is the least any worker writing these
// documents spends.
func (b *bench) addSendFloor(fs *formatSet, s floor.Send, bodyBytes int64) {
	logf("send floor %s: %d requests, %.1f MB of bulk bodies in %.3f CPU-s", fs.spec.Name, s.Requests, float64(s.Bytes)/1e6, s.CPU.Seconds())
	b.main.Add("send floor, "+fs.spec.Name, b.formatLabel(fs.set), fmt.Sprint(len(fs.set.Objects)), fmt.Sprint(fs.set.Lines),
		report.Num(float64(fs.set.Raw)/1e6), report.Num(s.CPU.Seconds())+" CPU", "–",
		report.Num(float64(fs.set.Lines)/s.CPU.Seconds())+" /CPU-s", report.Num(float64(fs.set.Raw)/1e6/s.CPU.Seconds())+" /CPU-s",
		report.Num(s.CPUPerGB(fs.set.Raw)), "–",
		fmt.Sprintf("the row's %s MB of bulk bodies sent again over one connection, nothing else", report.Num(float64(bodyBytes)/1e6)))
}

// cloudTrailHugeRow streams one CloudTrail log file of more than 1 GiB
// uncompressed (one JSON document whose Records array the worker reads
// element by element) queued first, with 15 typical CloudTrail objects
// behind it, at -concurrency: peak RSS is the target.
func (b *bench) cloudTrailHugeRow(ctx context.Context, ct *formatSet) {
	perRecord := float64(ct.set.Raw) / float64(max(1, ct.set.Lines))
	records := int(math.Ceil(b.c.cloudTrailHugeGiB * (1 << 30) / perRecord))
	huge, err := corpus.Generate("cloudtrail-huge", ct.spec, format.GenerateOptions{Seed: b.c.seed + 99, Objects: 1, RecordsPerObject: records, Prefix: "fmt-cloudtrail-huge"})
	if err != nil {
		logf("cloudtrail huge: %v", err)
		return
	}
	logf("corpus cloudtrail-huge: %d records, %.2f GiB uncompressed, %.1f MB gzip, rendered in %s", huge.Lines, float64(huge.Raw)/(1<<30), float64(huge.Gz)/1e6, huge.GenTime.Round(time.Millisecond))
	if err := b.fake.Put(bucket, huge.Objects[0].Key, huge.Objects[0].Gz); err != nil {
		logf("seeding gofakes3: %v", err)
		return
	}
	huge.Objects[0].Gz = nil // gofakes3 keeps its own copy
	companions := min(b.c.hugeCompanions, len(ct.set.Objects))
	set := corpus.Join("cloudtrail-huge", huge, ct.set.Subset("typical-cloudtrail", companions))
	b.sink.Reset()
	maxObjects, maxRSS := 0.0, 0.0
	name := fmt.Sprintf("discard, cloudtrail huge + %d typical", companions)
	w := b.runWorker(ctx, workerOpts{name: name, key: "cloudtrail-huge", set: set, esURL: b.sink.URL, timeout: 10 * time.Minute,
		onSample: func(s workerrun.Sample) {
			maxObjects = math.Max(maxObjects, s.Values.Sum("logtide_objects_in_flight"))
			maxRSS = math.Max(maxRSS, s.Values.Sum("process_resident_memory_bytes"))
		}})
	b.addCPURow(w)
	label := fmt.Sprintf("cloudtrail 1×%dk (%.2f GiB) + %d typical", records/1000, float64(huge.Raw)/(1<<30), companions)
	if w.err != nil {
		b.addMain(w, label, "")
		return
	}
	ratio := w.cpuPerGB() / ct.floor.CPUPerGB()
	b.addMain(w, label, fmt.Sprintf("CPU/GB %s cloudtrail floor; at most %.0f objects in flight seen", report.Ratio(ratio), maxObjects))
	rss := mib(w.res.PeakRSS)
	b.target(rss <= 256 && huge.Raw >= 1<<30, fmt.Sprintf("peak RSS ≤ 256 MiB streaming a CloudTrail object of ≥ 1 GiB with --concurrency %d", b.c.concurrency),
		fmt.Sprintf("%s MiB (VmHWM; largest sampled process_resident_memory_bytes %s MiB; %.0f objects in flight at most; the object %.2f GiB)",
			report.Num(rss), report.Num(maxRSS/(1<<20)), maxObjects, float64(huge.Raw)/(1<<30)))
}
