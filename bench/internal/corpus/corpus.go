// Package corpus renders seeded sample objects of a format into memory for
// the benchmarks, so every run measures byte-identical objects.
package corpus

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/logtide/logtide/worker/format"
)

// Object is one rendered export object.
type Object struct {
	Key   string
	Gz    []byte // as stored in S3 (gzip, or plain text for the log types stored so)
	Raw   int64  // uncompressed JSON Lines bytes
	Lines int
}

// Set is a rendered corpus.
type Set struct {
	Name    string
	Objects []Object
	Lines   int
	// Findings is the number of distinct findings (re-exports are later
	// versions of the same findings, not new ones).
	Findings int
	Raw, Gz  int64
	GenTime  time.Duration
}

// Generate renders every object of the format's corpus fixed by o, in
// parallel.
func Generate(name string, f format.Spec, o format.GenerateOptions) (*Set, error) {
	start := time.Now()
	c, err := f.Generate(o)
	if err != nil {
		return nil, err
	}
	infos := c.Objects()
	s := &Set{Name: name, Objects: make([]Object, len(infos))}
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for i := range infos {
		g.Go(func() error {
			var b bytes.Buffer
			if err := c.WriteObject(&b, i); err != nil {
				return err
			}
			gz := b.Bytes()
			raw := int64(len(gz)) // a log type stored as plain text
			if len(gz) >= 18 && gz[0] == 0x1f && gz[1] == 0x8b {
				// A single-member gzip stream ends with the uncompressed
				// size modulo 2^32: exact below 4 GiB.
				raw = int64(binary.LittleEndian.Uint32(gz[len(gz)-4:]))
			}
			s.Objects[i] = Object{Key: infos[i].Key, Gz: gz, Raw: raw, Lines: infos[i].Records}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("corpus %s: %w", name, err)
	}
	s.total()
	s.Findings = len(infos) * o.RecordsPerObject
	s.GenTime = time.Since(start)
	return s, nil
}

// total sums the lines and sizes of s's objects.
func (s *Set) total() {
	for _, ob := range s.Objects {
		s.Lines += ob.Lines
		s.Raw += ob.Raw
		s.Gz += int64(len(ob.Gz))
	}
}

// Subset is a corpus of some of s's objects.
func (s *Set) Subset(name string, n int) *Set {
	n = min(n, len(s.Objects))
	out := &Set{Name: name, Objects: s.Objects[:n:n]}
	out.total()
	out.Findings = -1 // not known for a subset with re-exports
	return out
}

// Join is the union of corpora, in order.
func Join(name string, sets ...*Set) *Set {
	out := &Set{Name: name, Findings: -1}
	for _, s := range sets {
		out.Objects = append(out.Objects, s.Objects...)
		out.Lines += s.Lines
		out.Raw += s.Raw
		out.Gz += s.Gz
	}
	return out
}
