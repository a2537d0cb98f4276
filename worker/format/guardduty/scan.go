package guardduty

import (
	"github.com/logtide/logtide/worker/format/jsonscan"
)

// The transform reads a handful of fields of a record that is otherwise
// passed through untouched, but the whole record must be valid JSON: one
// broken line in a bulk body would fail the request for every document in
// it. encoding/json's Unmarshal validates the whole input and then decodes it
// in a second pass, which made it the largest CPU cost of the worker.
// scanRecord does both in one pass over the record.

// recordFields are the parts of a finding the transform needs, as raw JSON
// values (nil when absent; the last occurrence of a duplicated key wins, as
// with encoding/json).
type recordFields struct {
	arn, createdAt, updatedAt, typ []byte
	// service is the raw service value; action and additionalInfo are
	// service.action and service.additionalInfo when service is an object.
	service, action, additionalInfo []byte
	// userName is resource.accessKeyDetails.userName.
	userName []byte
}

// scanRecord validates b as one JSON value (as json.Valid does) and
// collects the record fields. Its errors are *jsonscan.SyntaxError.
func scanRecord(b []byte) (recordFields, error) {
	var f recordFields
	s := jsonscan.New(b)
	if s.Object() {
		for s.Member() {
			switch string(s.Name()) {
			case "arn":
				f.arn = s.Value()
			case "createdAt":
				f.createdAt = s.Value()
			case "updatedAt":
				f.updatedAt = s.Value()
			case "type":
				f.typ = s.Value()
			case "service":
				f.service, f.action, f.additionalInfo = scanService(&s, b)
			case "resource":
				if v := scanResource(&s); v != nil {
					f.userName = v
				}
			}
		}
	}
	if err := s.End(); err != nil {
		return recordFields{}, err
	}
	return f, nil
}

// scanService reads the service member's value at the cursor of s, a
// scanner of b: it is returned raw, and so are its action and
// additionalInfo members when it is an object.
func scanService(s *jsonscan.Scanner, b []byte) (service, action, additionalInfo []byte) {
	start := s.Offset()
	if !s.Object() {
		return s.Value(), nil, nil
	}
	for s.Member() {
		switch string(s.Name()) {
		case "action":
			action = s.Value()
		case "additionalInfo":
			additionalInfo = s.Value()
		}
	}
	return b[start:s.Offset()], action, additionalInfo
}

// scanResource reads the resource member's value at the cursor of s and
// returns its accessKeyDetails.userName, raw (nil when absent).
func scanResource(s *jsonscan.Scanner) (userName []byte) {
	if !s.Object() {
		return nil
	}
	for s.Member() {
		if string(s.Name()) != "accessKeyDetails" || !s.Object() {
			continue
		}
		for s.Member() {
			if string(s.Name()) == "userName" {
				userName = s.Value()
			}
		}
	}
	return userName
}

// members calls fn with the name and the raw value of each member of obj,
// a JSON object a scanner accepted (as part of a record), in order. A value
// that is not an object yields nothing.
func members(obj []byte, fn func(name, value []byte)) {
	s := jsonscan.New(obj)
	if s.Object() {
		for s.Member() {
			fn(s.Name(), s.Value())
		}
	}
}

// member is the raw value of the last member called name of an accepted
// object (nil when absent or when obj is not an object).
func member(obj []byte, name string) []byte {
	var v []byte
	s := jsonscan.New(obj)
	if s.Object() {
		for s.Member() {
			if string(s.Name()) == name {
				v = s.Value()
			}
		}
	}
	return v
}

// elements calls fn with each element of an accepted JSON array.
func elements(arr []byte, fn func(value []byte)) {
	s := jsonscan.New(arr)
	if s.Array() {
		for s.Element() {
			fn(s.Value())
		}
	}
}
