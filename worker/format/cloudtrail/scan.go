package cloudtrail

import (
	"errors"
	"fmt"

	"github.com/logtide/logtide/worker/format/jsonscan"
)

// A CloudTrail record is indexed as delivered, but the whole of it must be
// valid JSON (one broken document fails a whole bulk request) and the
// document needs a handful of its fields. scanRecord does both in one pass
// (package jsonscan), where encoding/json would validate the record and then
// decode it a second time through reflection.

// maxDepth is how deeply arrays and objects may nest, as in encoding/json.
const maxDepth = jsonscan.MaxDepth

// field names a part of a record the document is built from.
type field uint8

const (
	// The members of the record.
	eventTime field = iota
	eventID
	eventName
	eventSource
	eventType
	eventCategory
	awsRegion
	sourceIP
	userAgent
	errorCode
	recipientAccount
	// userIdentity's userName, arn and accountId, and the userName of its
	// sessionContext.sessionIssuer.
	userName
	userARN
	userAccount
	issuerName
	// insightDetails' eventSource and insightType.
	insightSource
	insightType
	// responseElements.ConsoleLogin: "Success" or "Failure" for a sign-in.
	consoleLogin

	numFields
	none = numFields
)

// fields are the raw JSON values of the parts of a record the document is
// built from (nil when absent). Each may appear once: a record naming one
// of them twice is refused, since the cluster would refuse its document.
type fields [numFields][]byte

// level says which object a member is in, for the members looked for.
type level uint8

const (
	inOther level = iota
	inRecord
	inIdentity
	inSession
	inIssuer
	inWebID
	inInsight
	inResponse
)

// want is what a member's value may be.
type want uint8

const (
	anyValue want = iota
	// objectOrNull: userIdentity, which the template maps as an object: a
	// scalar there would make the cluster refuse the document.
	objectOrNull
	// freeForm: the blocks the template maps as one free-form field each
	// (format.Engine.FreeForm). A scalar there is moved out of the way
	// (format.MoveUnfit).
	freeForm
)

// freeFormPaths are the blocks scanned as freeForm.
var freeFormPaths = [][]string{
	{"requestParameters"}, {"responseElements"}, {"additionalEventData"}, {"serviceEventDetails"},
	{"edgeDeviceDetails"}, {"insightDetails"}, {"userIdentity", "sessionContext", "webIdFederationData", "attributes"},
}

// collector gathers the fields of a record as a scanner reads it.
type collector struct {
	f fields
	// err is a reason the record cannot be used although it is valid JSON.
	err error
	// unfit names a free-form block that is not an object ("" if none).
	unfit string
}

// scanRecord validates rec as one JSON object and collects its fields.
// spaced reports white space between tokens; unfit names a free-form block
// that is not an object. Its errors are the reason the record cannot be
// used.
func scanRecord(rec []byte) (f fields, spaced bool, unfit string, err error) {
	s := jsonscan.New(rec)
	if !s.Object() {
		return fields{}, false, "", errors.New("not a JSON object")
	}
	var c collector
	c.object(&s, inRecord)
	switch err := s.End(); {
	case err != nil:
		return fields{}, false, "", fmt.Errorf("invalid JSON: %w", err)
	case c.err != nil:
		return fields{}, false, "", c.err
	}
	return c.f, s.Spaced(), c.unfit, nil
}

// object reads the members of the object s is in, at level lv.
func (c *collector) object(s *jsonscan.Scanner, lv level) {
	for s.Member() {
		name := s.Name()
		dst, sub, w := c.member(lv, name)
		if sub != inOther && s.Object() {
			c.object(s, sub)
			continue
		}
		raw := s.Value()
		switch {
		case raw == nil || c.err != nil:
			// Invalid JSON, which the scanner reports; or the record
			// is already refused.
		case dst != none && c.f[dst] != nil:
			c.err = fmt.Errorf("%s%s appears twice", levelNames[lv], name)
		case dst != none:
			c.f[dst] = raw
		case w == objectOrNull && raw[0] != '{' && !jsonscan.IsNull(raw):
			c.err = fmt.Errorf("%s%s is not an object", levelNames[lv], name)
		case w == freeForm && raw[0] != '{' && !jsonscan.IsNull(raw) && c.unfit == "":
			c.unfit = levelNames[lv] + string(name)
		}
	}
}

// isECSName reports whether name is a member the document adds beside the
// record's own: a record holding one would give its document the member
// twice, which the cluster refuses.
func isECSName(name []byte) bool {
	switch string(name) {
	case "@timestamp", "event", "source", "destination", "network", "user",
		"cloud", "url", "http", "user_agent", "related":
		return true
	}
	return false
}

// member says what to do with the member called name of an object at
// level lv: the field its raw value is (none: no field), the level of its
// value if it is an object, and what the value may be.
func (c *collector) member(lv level, name []byte) (dst field, sub level, w want) {
	dst, w = none, anyValue
	switch lv {
	case inRecord:
		switch string(name) {
		case "eventTime":
			dst = eventTime
		case "eventID":
			dst = eventID
		case "eventName":
			dst = eventName
		case "eventSource":
			dst = eventSource
		case "eventType":
			dst = eventType
		case "eventCategory":
			dst = eventCategory
		case "awsRegion":
			dst = awsRegion
		case "sourceIPAddress":
			dst = sourceIP
		case "userAgent":
			dst = userAgent
		case "errorCode":
			dst = errorCode
		case "recipientAccountId":
			dst = recipientAccount
		case "userIdentity":
			return none, inIdentity, objectOrNull
		case "insightDetails":
			return none, inInsight, freeForm
		case "responseElements":
			return none, inResponse, freeForm
		case "requestParameters", "additionalEventData", "serviceEventDetails", "edgeDeviceDetails":
			return none, inOther, freeForm
		default:
			if isECSName(name) {
				c.err = fmt.Errorf("the record has a member %q, a name the document's ECS fields use", name)
			}
		}
	case inIdentity:
		switch string(name) {
		case "userName":
			dst = userName
		case "arn":
			dst = userARN
		case "accountId":
			dst = userAccount
		case "sessionContext":
			sub = inSession
		}
	case inSession:
		switch string(name) {
		case "sessionIssuer":
			sub = inIssuer
		case "webIdFederationData":
			sub = inWebID
		}
	case inWebID:
		if string(name) == "attributes" {
			w = freeForm
		}
	case inIssuer:
		if string(name) == "userName" {
			dst = issuerName
		}
	case inInsight:
		switch string(name) {
		case "eventSource":
			dst = insightSource
		case "insightType":
			dst = insightType
		}
	case inResponse:
		if string(name) == "ConsoleLogin" {
			dst = consoleLogin
		}
	}
	return dst, sub, w
}

// levelNames name the objects in error messages.
var levelNames = [...]string{inRecord: "", inIdentity: "userIdentity.", inSession: "userIdentity.sessionContext.",
	inIssuer: "userIdentity.sessionContext.sessionIssuer.", inWebID: "userIdentity.sessionContext.webIdFederationData.", inInsight: "insightDetails.", inResponse: "responseElements."}
