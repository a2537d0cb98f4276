// Package format declares what the worker needs to know about one kind of
// log: how its objects are recognised, how their records are framed, how one
// record becomes a document, its index template and how to generate sample
// objects of it. Each log type is a package of its own under this folder
// (guardduty/ is the first); the list of them is package formats.
package format

import (
	"bufio"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"strings"
	"time"
	"unsafe"

	"github.com/logtide/logtide/worker/internal/indexname"
)

// Format is one log type.
type Format interface {
	// Name is the format's name in routing rules, logs and metrics.
	Name() string
	// Claim says whether this format reads the object with key k.
	Claim(k Key) Claim
	// Framing says how records are cut out of an object's content.
	Framing() Framing
	// Decoder returns what turns the records of object o into documents. It
	// is used by one goroutine, for that object only.
	Decoder(o Object) Decoder
	// IndexTemplate is the composable index template of the format's
	// indices for engine e: its name and body. It is composed of the ECS
	// component template (package ecs).
	IndexTemplate(e Engine) (name, body string)
	// IndexPattern matches every index the format writes to.
	IndexPattern() string
}

// History is a format whose records are versions of something that
// changes (a GuardDuty finding, updated as its activity goes on). With
// Options.History, every version is also kept, once, in history indices
// apart from the format's own, which hold only the newest.
type History interface {
	// HistoryOf is the history document of doc: the same body, in the
	// history index of the version's own day, its id naming the version;
	// false when history is off or doc has no version.
	HistoryOf(doc Document) (Document, bool)
	// HistoryTemplate is the history indices' composable template for
	// engine e, and HistoryPattern matches them; "" when history is off.
	HistoryTemplate(e Engine) (name, body string)
	HistoryPattern() string
}

// Decoder turns records into documents.
type Decoder interface {
	// Decode turns one record into its document; n is the record's place
	// in the object (its line), for ids derived from the object and the
	// position. A record that can never be indexed as it is yields a
	// *RecordError, which dead-letters it.
	Decode(record []byte, n int) (Document, error)
}

// Document is one record ready for a bulk index action.
type Document struct {
	Index string
	ID    string
	// Version orders copies of the same record: a later copy carries a
	// larger version, and the cluster keeps the largest. Zero means the
	// record has no versions: the last write wins.
	Version int64
	Body    []byte
}

// RecordError reports a record that can never be indexed as it is; it is
// permanent for that record.
type RecordError struct{ Reason string }

func (e *RecordError) Error() string { return e.Reason }

// Errorf is a *RecordError with a formatted reason.
func Errorf(format string, a ...any) error {
	return &RecordError{Reason: fmt.Sprintf(format, a...)}
}

// Object names the object a decoder reads.
type Object struct {
	Bucket, Key, VersionID string
}

// Framing is how records follow each other in an object.
type Framing int

const (
	// Lines: one record per line (JSON Lines, text logs). A record's
	// position is its line number.
	Lines Framing = iota
	// RecordsArray: one JSON document whose "Records" array holds the
	// records (CloudTrail), streamed element by element. A record's
	// position is its 1-based place in the array.
	RecordsArray
)

// ErrNotARecord is what a decoder returns for a line that is part of the
// object but holds no record (the header line of a VPC flow log): the line
// is counted as skipped, not dead-lettered.
var ErrNotARecord = errors.New("not a record")

// PositionID is the _id of the record at position n of object o, for log
// types without a natural id: replaying the object writes the same ids, and
// distinct records (other objects, versions or positions) never share one.
// It is 27 characters: the first 160 bits of the SHA-256 of the bucket, key
// and version id, each followed by a zero byte, and n as eight bytes, big
// endian; base64url. A decoder making the ids of many records of one object
// uses PositionIDs, which gives the same ids for less.
func PositionID(o Object, n int) string {
	b := binary.BigEndian.AppendUint64(objectPart(o), uint64(n))
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:20])
}

// objectPart is what the hash of a PositionID starts with: the object's
// bucket, key and version id, each followed by a zero byte.
func objectPart(o Object) []byte {
	b := make([]byte, 0, len(o.Bucket)+len(o.Key)+len(o.VersionID)+3+8)
	for _, s := range []string{o.Bucket, o.Key, o.VersionID} {
		b = append(b, s...)
		b = append(b, 0)
	}
	return b
}

// PositionIDs makes the PositionID of records of one object. The object's
// part of the hash is computed once: the hash of each record starts from
// its state, which saves hashing an object key of a hundred bytes or more
// again for every record: for the key of an ELB object, an id takes less
// than half PositionID's time and one allocation rather than two
// (BenchmarkPositionIDs). It is used by one goroutine.
type PositionIDs struct {
	h     hash.Hash
	reset encoding.BinaryUnmarshaler // h, to put state back
	state []byte                     // h after the object's part, as h.MarshalBinary gives it
	// Scratch space kept here: what goes through the hash.Hash interface
	// would otherwise be allocated anew for each record.
	n   [8]byte
	sum [sha256.Size]byte
	id  [27]byte
}

// NewPositionIDs returns the maker of the ids of object o's records.
func NewPositionIDs(o Object) *PositionIDs {
	h := sha256.New()
	h.Write(objectPart(o))
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("sha256 state: %v", err)) // crypto/sha256 always marshals its state
	}
	return &PositionIDs{h: h, reset: h.(encoding.BinaryUnmarshaler), state: state}
}

// ID is the PositionID of the record at position n.
func (p *PositionIDs) ID(n int) string { return string(p.Bytes(n)) }

// Bytes is ID's text in p's own space, valid until the next call: for a
// caller that copies it out with its body (Bodies.String).
func (p *PositionIDs) Bytes(n int) []byte {
	if err := p.reset.UnmarshalBinary(p.state); err != nil {
		panic(fmt.Sprintf("sha256 state: %v", err)) // what MarshalBinary gave it
	}
	binary.BigEndian.PutUint64(p.n[:], uint64(n))
	p.h.Write(p.n[:])
	sum := p.h.Sum(p.sum[:0])
	base64.RawURLEncoding.Encode(p.id[:], sum[:20])
	return p.id[:]
}

// Claim is a format's answer about an object.
type Claim int

const (
	// NotMine: the object is not of this format.
	NotMine Claim = iota
	// Read: the object is of this format; read its records.
	Read
	// Skip: the object belongs to this log type but holds no records to
	// index (a digest, a test file); it is counted and done.
	Skip
)

// Key is an object key, read against the layouts AWS services write to S3:
// [prefix/]AWSLogs/[<org-id>/]<account>/<service>/..., and the Hive-style
// [prefix/]AWSLogs/aws-account-id=<account>/aws-service=<service>/....
type Key struct {
	// Raw is the key as it is.
	Raw string
	// Account and Service come from the AWSLogs part of the key; both are
	// empty when the key has none.
	Account, Service string
	// Rest is what follows the service folder.
	Rest string
}

// ParseKey reads the AWSLogs layout of raw, where it has one.
func ParseKey(raw string) Key {
	k := Key{Raw: raw}
	rest, ok := afterAWSLogs(raw)
	if !ok {
		return k
	}
	account, rest, _ := strings.Cut(rest, "/")
	if isOrgID(account) { // an organization trail
		account, rest, _ = strings.Cut(rest, "/")
	}
	service, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return k
	}
	if a, isHive := strings.CutPrefix(account, "aws-account-id="); isHive {
		s, ok := strings.CutPrefix(service, "aws-service=")
		if !ok {
			return k
		}
		account, service = a, s
	}
	if !isAccount(account) || service == "" {
		return k
	}
	k.Account, k.Service, k.Rest = account, service, rest
	return k
}

// afterAWSLogs returns what follows the first folder named AWSLogs.
func afterAWSLogs(raw string) (string, bool) {
	for from := 0; ; {
		i := strings.Index(raw[from:], "AWSLogs/")
		if i < 0 {
			return "", false
		}
		i += from
		if i == 0 || raw[i-1] == '/' {
			return raw[i+len("AWSLogs/"):], true
		}
		from = i + 1
	}
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isOrgID reports whether s is an AWS Organizations id (o-[a-z0-9]{10,32}).
func isOrgID(s string) bool {
	if len(s) < 12 || len(s) > 34 || !strings.HasPrefix(s, "o-") {
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Options are the run's settings every format takes.
type Options struct {
	// IndexPrefix is the part of index names before the date; empty means
	// the format's default.
	IndexPrefix string
	// Location is the time zone choosing the date in index names; nil means
	// UTC.
	Location *time.Location
	// History keeps every version of a record in history indices, for the
	// formats whose records have versions (see History).
	History bool
}

// WithDefaults returns o with its defaults filled in: the format's own
// index prefix, defaultPrefix, when none is set, and UTC. The prefix must
// be able to start an index name.
func (o Options) WithDefaults(defaultPrefix string) (Options, error) {
	if o.IndexPrefix == "" {
		o.IndexPrefix = defaultPrefix
	}
	if err := indexname.Check(o.IndexPrefix); err != nil {
		return o, fmt.Errorf("index prefix %q: %w", o.IndexPrefix, err)
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return o, nil
}

// Engine is the search engine the worker writes to, as far as mappings
// differ between them.
type Engine struct {
	// Distribution is "opensearch" or "elasticsearch"; empty when unknown.
	Distribution string
	// Major and Minor are its version.
	Major, Minor int
	// Flavor is Elasticsearch's build flavor: "default" for the
	// distribution with X-Pack's features, "oss" (or "unknown", for a node
	// built from the Maven Central jars) without them.
	Flavor string
}

// XPack reports an Elasticsearch with X-Pack's features (flattened,
// Index Lifecycle Management): its default distribution.
func (e Engine) XPack() bool { return e.Distribution == "elasticsearch" && e.Flavor == "default" }

// FreeForm is the mapping of an object whose members differ from record to
// record and would otherwise explode the mapping or clash in type
// (CloudTrail's requestParameters): one field whose leaves stay searchable
// by their dotted paths where the engine has such a type (OpenSearch 2.7+
// flat_object, Elasticsearch 7.3+ flattened in its default distribution),
// else kept in _source without being indexed.
func (e Engine) FreeForm() string {
	switch {
	case e.Distribution == "opensearch" && (e.Major > 2 || e.Major == 2 && e.Minor >= 7):
		return `{"type":"flat_object"}`
	case e.XPack() && (e.Major > 7 || e.Major == 7 && e.Minor >= 3):
		return `{"type":"flattened","ignore_above":1024}`
	}
	return `{"type":"object","enabled":false}`
}

// GenerateOptions shape a set of sample objects. A format reads what
// applies to it; zero values select its defaults.
type GenerateOptions struct {
	// Seed selects the set: the same options give byte-identical objects.
	Seed uint64
	// Objects is the number of objects; RecordsPerObject the new records in
	// each.
	Objects, RecordsPerObject int
	// UpdatePercent is, for log types whose records change over time (a
	// finding re-exported when it is updated), the share of records written
	// again later as a newer version; negative means none.
	UpdatePercent int
	// OutOfOrder places some newer versions before the older copy.
	OutOfOrder bool
	// Accounts and Regions the records belong to.
	Accounts, Regions []string
	// Prefix goes before the key layout the service writes.
	Prefix string
	// Start is the time of the first object.
	Start time.Time
}

// Corpus is a generated set of sample objects, rendered on demand.
type Corpus interface {
	// Objects lists the objects in the order they were written.
	Objects() []CorpusObject
	// WriteObject writes object i as the service stores it in S3.
	WriteObject(w io.Writer, i int) error
	// Records is the number of records in all objects.
	Records() int
}

// CorpusObject is one generated object.
type CorpusObject struct {
	// Key is the S3 key, prefix included.
	Key string
	// Records is the number of records in the object.
	Records int
	// ContentType is the object's media type as the service writes it.
	ContentType string
}

// Spec is a format as the worker registers it.
type Spec struct {
	// Name is the format's name (Format.Name).
	Name string
	// Summary says in a line what the format reads, for --help.
	Summary string
	// New builds the format for a run.
	New func(Options) (Format, error)
	// Generate plans sample objects (demo, tests, benchmarks).
	Generate func(GenerateOptions) (Corpus, error)
	// Floor reads an object's decompressed content the cheapest way any
	// consumer that looks inside every record could (cut it into records
	// and parse their fields, nothing else) and counts the records. The
	// benchmark sets the worker's CPU per GB against it, in the same run.
	Floor func(content io.Reader) (records int, err error)
}

// WriteDir writes every object of c under dir, at its key, creating folders
// as needed. A key that would leave dir is an error.
func WriteDir(c Corpus, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for i, o := range c.Objects() {
		if err := root.MkdirAll(path.Dir(o.Key), 0o755); err != nil {
			return fmt.Errorf("%s: %w", o.Key, err)
		}
		if err := writeFile(root, o.Key, func(w io.Writer) error { return c.WriteObject(w, i) }); err != nil {
			return fmt.Errorf("%s: %w", o.Key, err)
		}
	}
	return nil
}

func writeFile(root *os.Root, name string, write func(io.Writer) error) (err error) {
	f, err := root.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// Bodies hands out copies of document bodies and ids cut from shared
// blocks: one allocation for many small bodies rather than one each. A
// block stays in memory while any body or id cut from it does, which the
// bulk layer's bound on documents in flight bounds in turn. It is used by
// one goroutine.
type Bodies struct {
	block []byte
	off   int
}

// bodiesBlock is the size of a block; a body larger than an eighth of it is
// copied alone.
const bodiesBlock = 64 << 10

// Copy returns a copy of p that nothing else writes to.
func (b *Bodies) Copy(p []byte) []byte {
	n := len(p)
	if n > bodiesBlock/8 {
		return append([]byte(nil), p...)
	}
	if len(b.block)-b.off < n {
		b.block, b.off = make([]byte, bodiesBlock), 0
	}
	out := b.block[b.off : b.off+n : b.off+n]
	copy(out, p)
	b.off += n
	return out
}

// String returns a copy of p as a string, cut from the blocks like a body:
// a document's id beside its body rather than an allocation of its own.
func (b *Bodies) String(p []byte) string {
	c := b.Copy(p)
	return unsafe.String(unsafe.SliceData(c), len(c))
}
