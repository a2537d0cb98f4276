package guardduty

import (
	"strconv"
	"time"

	"github.com/logtide/logtide/worker/format/jsonw"
)

// jw appends compact JSON to a reusable buffer. Findings are written by hand
// rather than with encoding/json so that field order matches the real export,
// the type drift can be expressed without interface{} plumbing, and a large
// corpus renders without per-field allocations.
type jw struct {
	b     []byte
	comma bool // a value was just completed, so the next item needs a ','
}

func (w *jw) reset() { w.b, w.comma = w.b[:0], false }

func (w *jw) sep() {
	if w.comma {
		w.b = append(w.b, ',')
	}
}

// key starts a member. Keys are constants of this package that need no
// escaping, so they are copied as they are.
func (w *jw) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.comma = false
}

func (w *jw) open()     { w.sep(); w.b = append(w.b, '{'); w.comma = false }
func (w *jw) close()    { w.b = append(w.b, '}'); w.comma = true }
func (w *jw) openArr()  { w.sep(); w.b = append(w.b, '['); w.comma = false }
func (w *jw) closeArr() { w.b = append(w.b, ']'); w.comma = true }

func (w *jw) obj(k string) { w.key(k); w.open() }
func (w *jw) arr(k string) { w.key(k); w.openArr() }

func (w *jw) str(s string) { w.sep(); w.b = jsonw.String(w.b, s); w.comma = true }
func (w *jw) num(n int64)  { w.sep(); w.b = strconv.AppendInt(w.b, n, 10); w.comma = true }
func (w *jw) lit(s string) { w.sep(); w.b = append(w.b, s...); w.comma = true }

// fnum writes f with prec decimals ("8.0", "39.0438").
func (w *jw) fnum(f float64, prec int) {
	w.sep()
	w.b = strconv.AppendFloat(w.b, f, 'f', prec, 64)
	w.comma = true
}

func (w *jw) boolean(v bool) {
	if v {
		w.lit("true")
	} else {
		w.lit("false")
	}
}

// ts writes an ISO-8601 UTC timestamp, with or without milliseconds.
func (w *jw) ts(t time.Time, millis bool) {
	w.sep()
	w.b = append(w.b, '"')
	if millis {
		w.b = t.UTC().AppendFormat(w.b, "2006-01-02T15:04:05.000Z")
	} else {
		w.b = t.UTC().AppendFormat(w.b, "2006-01-02T15:04:05Z")
	}
	w.b = append(w.b, '"')
	w.comma = true
}

func (w *jw) kstr(k, v string)                   { w.key(k); w.str(v) }
func (w *jw) knum(k string, n int64)             { w.key(k); w.num(n) }
func (w *jw) kint(k string, n int)               { w.key(k); w.num(int64(n)) }
func (w *jw) kbool(k string, v bool)             { w.key(k); w.boolean(v) }
func (w *jw) klit(k, v string)                   { w.key(k); w.lit(v) }
func (w *jw) kts(k string, t time.Time, ms bool) { w.key(k); w.ts(t, ms) }

// fields splices the members of a complete JSON object (as produced by
// another jw) into the object w is currently writing.
func (w *jw) fields(object []byte) {
	if len(object) <= 2 {
		return
	}
	w.sep()
	w.b = append(w.b, object[1:len(object)-1]...)
	w.comma = true
}

const hexDigits = "0123456789abcdef"
