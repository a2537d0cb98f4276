package format

// This file holds what the generators of every log type share: the checks
// and defaults of GenerateOptions, the plan of a corpus's objects, and the
// writing of one object. What an object holds is each format's own.

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The defaults of GenerateOptions' zero values.
const (
	DefaultObjects          = 10
	DefaultRecordsPerObject = 50
	DefaultAccount          = "123456789012"
	DefaultRegion           = "us-east-1"
)

// defaultStart is the time of the first object when GenerateOptions.Start
// is zero.
var defaultStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// WithDefaults checks the options every generator reads and fills in the
// defaults of their zero values: DefaultObjects objects of
// DefaultRecordsPerObject records, DefaultAccount, DefaultRegion and a start
// at 2026-01-05T00:00:00Z. Start is made UTC, Prefix given a trailing '/'
// unless it is empty, and Accounts and Regions are copies. UpdatePercent
// and OutOfOrder are left as they are: what they mean is up to the format.
func (o GenerateOptions) WithDefaults() (GenerateOptions, error) {
	if o.Objects < 0 || o.RecordsPerObject < 0 {
		return GenerateOptions{}, errors.New("the numbers of objects and of records per object must not be negative")
	}
	if o.Objects == 0 {
		o.Objects = DefaultObjects
	}
	if o.RecordsPerObject == 0 {
		o.RecordsPerObject = DefaultRecordsPerObject
	}
	if len(o.Accounts) == 0 {
		o.Accounts = []string{DefaultAccount}
	}
	for _, a := range o.Accounts {
		if !accountRE.MatchString(a) {
			return GenerateOptions{}, fmt.Errorf("account %q is not 12 digits", a)
		}
	}
	if len(o.Regions) == 0 {
		o.Regions = []string{DefaultRegion}
	}
	for _, r := range o.Regions {
		if !regionRE.MatchString(r) {
			return GenerateOptions{}, fmt.Errorf("%q is not a region name", r)
		}
	}
	o.Accounts, o.Regions = slices.Clone(o.Accounts), slices.Clone(o.Regions)
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	if o.Start.IsZero() {
		o.Start = defaultStart
	}
	o.Start = o.Start.UTC()
	return o, nil
}

// CorpusPlan is what a generated corpus fixes before it renders anything:
// its objects, in the order they were written. A format's Corpus embeds it
// for Objects and Records, and renders an object through Write.
type CorpusPlan struct {
	name    string
	objects []CorpusObject
	records int
}

// NewCorpusPlan is the plan of a corpus of format name (which errors
// name) holding objects; it keeps objects as they are.
func NewCorpusPlan(name string, objects []CorpusObject) CorpusPlan {
	p := CorpusPlan{name: name, objects: objects}
	for _, o := range objects {
		p.records += o.Records
	}
	return p
}

// Objects lists the objects in the order they were written.
func (p *CorpusPlan) Objects() []CorpusObject { return slices.Clone(p.objects) }

// Records is the number of records in all objects.
func (p *CorpusPlan) Records() int { return p.records }

// Compressor wraps the writer of an object's stored bytes in one that
// compresses them; closing it ends the compressed stream.
type Compressor func(io.Writer) (io.WriteCloser, error)

// Gzip is the Compressor of gzip objects: the standard library's, at its
// fastest level.
func Gzip(w io.Writer) (io.WriteCloser, error) {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	return zw, nil
}

// Write writes object i to w as it is stored: content writes the object's
// content to the writer it is given, which compresses it with z (nil
// stores it as written). Errors name the corpus and the object.
func (p *CorpusPlan) Write(w io.Writer, i int, z Compressor, content func(io.Writer) error) error {
	if i < 0 || i >= len(p.objects) {
		return fmt.Errorf("%s corpus: object %d out of range [0,%d)", p.name, i, len(p.objects))
	}
	if err := compress(w, z, content); err != nil {
		return fmt.Errorf("%s corpus: write object %d: %w", p.name, i, err)
	}
	return nil
}

func compress(w io.Writer, z Compressor, content func(io.Writer) error) error {
	if z == nil {
		return content(w)
	}
	zw, err := z(w)
	if err != nil {
		return err
	}
	if err := content(zw); err != nil {
		return err
	}
	return zw.Close()
}

// Mix64 is the splitmix64 finalizer: a bijection on uint64 that spreads
// nearby inputs far apart, so distinct inputs give distinct outputs. The
// generators derive their values from the seed with it.
func Mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// AppendUUID appends 128 bits, hi first, as a version 4 UUID.
func AppendUUID(b []byte, hi, lo uint64) []byte {
	const hexDigits = "0123456789abcdef"
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	for i, n := range [...]int{8, 4, 4, 4, 12} {
		if i > 0 {
			b = append(b, '-')
		}
		for range n {
			b = append(b, hexDigits[hi>>60])
			hi = hi<<4 | lo>>60
			lo <<= 4
		}
	}
	return b
}
