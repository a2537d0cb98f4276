package format

import (
	"github.com/logtide/logtide/worker/format/jsonscan"
	"github.com/logtide/logtide/worker/format/jsonw"
)

// A free-form block (CloudTrail's requestParameters, GuardDuty's
// service.additionalInfo, ...) is mapped as one field whose leaves are
// indexed as exact values (Engine.FreeForm). Two things in such a block make
// the cluster refuse the whole document: a value that is not an object, and
// on OpenSearch's flat_object a leaf that, with its path, is longer than the
// longest term Lucene indexes. MoveUnfit keeps such a record indexable: it
// moves the block to a field the templates keep in _source only.

// TermLimit is the longest term Lucene indexes, in bytes.
const TermLimit = 32766

// LeafLimit is what a leaf and its path within the block may take: the
// rest of TermLimit is room for the block's own path. A record no longer
// than LeafLimit has no leaf too long.
const LeafLimit = TermLimit - 512

// Unindexed is the object the templates map with "enabled": false: the
// blocks MoveUnfit moves are kept there, under their dotted path.
const Unindexed = "logtide.unindexed"

// Unfit tells whether a block (a raw JSON value) cannot go into a
// free-form field: it is neither an object nor null, or one of its leaves,
// written path=value, would be longer than TermLimit. Blocks shorter than
// TermLimit, the usual case, are objects or null at a glance.
func Unfit(block []byte) bool {
	if jsonscan.IsNull(block) {
		return false
	}
	if block[0] != '{' {
		return true
	}
	if len(block) <= LeafLimit {
		return false // no leaf and path are longer than the block
	}
	s := jsonscan.New(block)
	return tooLong(&s, 0)
}

// tooLong walks the value at the cursor of s, whose path is pathLen bytes
// long, and tells whether a leaf with its path exceeds LeafLimit. Lengths
// are of the value as written (escapes included), never less than decoded.
func tooLong(s *jsonscan.Scanner, pathLen int) bool {
	switch {
	case s.Object():
		for s.Member() {
			if tooLong(s, pathLen+1+len(s.Name())) {
				return true
			}
		}
	case s.Array():
		for s.Element() {
			if tooLong(s, pathLen) {
				return true
			}
		}
	default:
		return pathLen+1+len(s.Value()) > LeafLimit
	}
	return false
}

// MoveUnfit returns record (a JSON object) with every block at paths that
// is Unfit replaced by null and kept whole under logtide.unindexed, as
// {"logtide":{"unindexed":{"service.additionalInfo":...}}}; it returns
// record itself, and false, when no block moves. The record must be valid
// JSON; a record that already has a top-level member named logtide
// is returned as it is.
func MoveUnfit(record []byte, paths ...[]string) ([]byte, bool) {
	if hasMember(record, "logtide") {
		return record, false // the moved blocks would have no place of their own
	}
	var moved []movedBlock
	out := make([]byte, 0, len(record)+64)
	s := jsonscan.New(record)
	out = rewrite(&s, out, nil, paths, &moved)
	if len(moved) == 0 || s.End() != nil {
		return record, false
	}
	// out ends with the record's closing brace.
	out = out[:len(out)-1]
	if len(out) > 1 {
		out = append(out, ',')
	}
	out = append(out, `"logtide":{"unindexed":{`...)
	for i, m := range moved {
		if i > 0 {
			out = append(out, ',')
		}
		out = jsonw.String(out, m.path)
		out = append(out, ':')
		out = append(out, m.raw...)
	}
	return append(out, "}}}"...), true
}

// hasMember tells whether the object record has a member named name.
func hasMember(record []byte, name string) bool {
	s := jsonscan.New(record)
	if !s.Object() {
		return false
	}
	for s.Member() {
		if string(s.Name()) == name {
			return true
		}
	}
	return false
}

type movedBlock struct {
	path string
	raw  []byte
}

// rewrite copies the value at the cursor of s to out (compacted), moving
// the Unfit blocks at paths below the object at path.
func rewrite(s *jsonscan.Scanner, out []byte, path []string, paths [][]string, moved *[]movedBlock) []byte {
	if !s.Object() {
		return jsonscan.AppendCompact(out, s.Value())
	}
	out = append(out, '{')
	first := true
	for s.Member() {
		name := string(s.Name())
		if !first {
			out = append(out, ',')
		}
		first = false
		out = jsonw.String(out, name)
		out = append(out, ':')
		here := append(path[:len(path):len(path)], name)
		switch under(here, paths) {
		case exact:
			v := s.Value()
			if Unfit(v) {
				*moved = append(*moved, movedBlock{joinPath(here), jsonscan.AppendCompact(nil, v)})
				out = append(out, "null"...)
			} else {
				out = jsonscan.AppendCompact(out, v)
			}
		case prefix:
			out = rewrite(s, out, here, paths, moved)
		default:
			out = jsonscan.AppendCompact(out, s.Value())
		}
	}
	return append(out, '}')
}

const (
	apart = iota
	prefix
	exact
)

// under tells how path stands to paths: one of them, the start of one, or
// apart from all.
func under(path []string, paths [][]string) int {
	best := apart
	for _, p := range paths {
		if len(p) < len(path) {
			continue
		}
		same := true
		for i := range path {
			if p[i] != path[i] {
				same = false
				break
			}
		}
		if !same {
			continue
		}
		if len(p) == len(path) {
			return exact
		}
		best = prefix
	}
	return best
}

func joinPath(p []string) string {
	n := 0
	for _, s := range p {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	for i, s := range p {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, s...)
	}
	return string(b)
}
