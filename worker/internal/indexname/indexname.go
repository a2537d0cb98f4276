// Package indexname holds the rule Elasticsearch and OpenSearch apply to
// index names, so that a bad name is refused at start-up rather than by
// every bulk item.
package indexname

import (
	"fmt"
	"strings"
)

// forbidden are the characters no index name may hold.
const forbidden = ` ,"*\/<>|?#:`

// maxBytes is the longest index name the clusters accept.
const maxBytes = 255

// Check reports why name cannot be an index name (or the start of one, for
// a prefix), or nil.
func Check(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty")
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a name", name)
	case strings.ContainsAny(name[:1], "-_+"):
		return fmt.Errorf("must not start with '-', '_' or '+'")
	case name != strings.ToLower(name):
		return fmt.Errorf("must be lower case")
	case strings.ContainsAny(name, forbidden):
		return fmt.Errorf("must contain none of %q", forbidden)
	case len(name) > maxBytes:
		return fmt.Errorf("longer than %d bytes", maxBytes)
	}
	return nil
}
