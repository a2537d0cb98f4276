package vpcflow

import (
	"fmt"
	"strings"
)

// kind is how a field's value is read and written.
type kind uint8

const (
	// kString: kept as a JSON string (keyword).
	kString kind = iota
	// kCount: a non-negative integer (long).
	kCount
	// kPort: an integer from 0 to 65535.
	kPort
	// kProtocol: an IANA protocol number, 0 to 255.
	kProtocol
	// kTime: epoch seconds, written as a number (date, epoch_second).
	kTime
	// kIP: an IPv4 or IPv6 address (ip).
	kIP
)

// role says which ECS field, if any, a field's value also feeds.
type role uint8

const (
	rNone role = iota
	rAccount
	rRegion
	rAction
	rStatus
	rDirection
	rSrcAddr
	rDstAddr
	rPktSrcAddr
	rPktDstAddr
	rSrcPort
	rDstPort
	rProtocol
	rPackets
	rBytes
	rStart
	rEnd
)

// field is a flow log field the format knows.
type field struct {
	kind kind
	role role
}

// known are the fields of VPC flow logs (versions 2 to 8) and transit
// gateway flow logs (version 6), by their header names. Every other name a
// header holds is kept as a string.
var known = map[string]field{
	// Version 2: the default format.
	"version":      {kCount, rNone},
	"account-id":   {kString, rAccount},
	"interface-id": {kString, rNone},
	"srcaddr":      {kIP, rSrcAddr},
	"dstaddr":      {kIP, rDstAddr},
	"srcport":      {kPort, rSrcPort},
	"dstport":      {kPort, rDstPort},
	"protocol":     {kProtocol, rProtocol},
	"packets":      {kCount, rPackets},
	"bytes":        {kCount, rBytes},
	"start":        {kTime, rStart},
	"end":          {kTime, rEnd},
	"action":       {kString, rAction},
	"log-status":   {kString, rStatus},
	// Version 3.
	"vpc-id":      {kString, rNone},
	"subnet-id":   {kString, rNone},
	"instance-id": {kString, rNone},
	"tcp-flags":   {kCount, rNone},
	"type":        {kString, rNone},
	"pkt-srcaddr": {kIP, rPktSrcAddr},
	"pkt-dstaddr": {kIP, rPktDstAddr},
	// Version 4.
	"region":           {kString, rRegion},
	"az-id":            {kString, rNone},
	"sublocation-type": {kString, rNone},
	"sublocation-id":   {kString, rNone},
	// Version 5.
	"pkt-src-aws-service": {kString, rNone},
	"pkt-dst-aws-service": {kString, rNone},
	"flow-direction":      {kString, rDirection},
	"traffic-path":        {kCount, rNone},
	// Version 7: ECS tasks.
	"ecs-cluster-arn":            {kString, rNone},
	"ecs-cluster-name":           {kString, rNone},
	"ecs-container-instance-arn": {kString, rNone},
	"ecs-container-instance-id":  {kString, rNone},
	"ecs-container-id":           {kString, rNone},
	"ecs-second-container-id":    {kString, rNone},
	"ecs-service-name":           {kString, rNone},
	"ecs-task-definition-arn":    {kString, rNone},
	"ecs-task-arn":               {kString, rNone},
	"ecs-task-id":                {kString, rNone},
	// Version 8.
	"reject-reason": {kString, rNone},
	// Transit gateway flow logs (version 6).
	"resource-type":             {kString, rNone},
	"tgw-id":                    {kString, rNone},
	"tgw-attachment-id":         {kString, rNone},
	"tgw-src-vpc-account-id":    {kString, rNone},
	"tgw-dst-vpc-account-id":    {kString, rNone},
	"tgw-src-vpc-id":            {kString, rNone},
	"tgw-dst-vpc-id":            {kString, rNone},
	"tgw-src-subnet-id":         {kString, rNone},
	"tgw-dst-subnet-id":         {kString, rNone},
	"tgw-src-eni":               {kString, rNone},
	"tgw-dst-eni":               {kString, rNone},
	"tgw-src-az-id":             {kString, rNone},
	"tgw-dst-az-id":             {kString, rNone},
	"tgw-pair-attachment-id":    {kString, rNone},
	"packets-lost-no-route":     {kCount, rNone},
	"packets-lost-blackhole":    {kCount, rNone},
	"packets-lost-mtu-exceeded": {kCount, rNone},
	"packets-lost-ttl-expired":  {kCount, rNone},
}

// ecsNames are the top-level members the ECS fields take: a field of the
// same name would write the member twice, which the cluster refuses.
var ecsNames = map[string]bool{
	"event": true, "source": true, "destination": true, "network": true, "user": true,
	"cloud": true, "url": true, "http": true, "user_agent": true, "related": true,
}

// maxColumns bounds a header: the VPC and transit gateway fields together
// are fewer than 70, and every unknown name would become a mapped field.
const maxColumns = 128

// column is one field of the header, in its place.
type column struct {
	field
	// member is `,"name":`, the field's JSON member name after a comma.
	member string
	// name is the field's name in the header, for error messages.
	name string
}

// header is the field order a header line sets.
type header struct {
	cols []column
	// hasTime: the header names start or end.
	hasTime bool
	// names is the length of every member name, quotes, colon and comma:
	// with twice the record's length (for quotes and escapes) and the ECS
	// fields, the room a document needs, so that its body is allocated once.
	names int
}

// isName reports whether s is a field name as headers write them: lower
// case letters, digits and hyphens, starting with a letter.
func isName(s []byte) bool {
	if len(s) == 0 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s[1:] {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// looksLikeHeader reports whether line is a header: names separated by
// single spaces, at least one of them a known field. No record looks like
// that: every record has a number, an address or '-' among its values
// (start and end at least), and no value is a field's name.
func looksLikeHeader(line []byte) bool {
	if len(line) == 0 || line[0] < 'a' || line[0] > 'z' {
		return false // the usual record: it starts with the version
	}
	// A quick pass over the bytes first: a record fails it at its first
	// address, number or upper-case value.
	for _, c := range line {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != ' ' {
			return false
		}
	}
	anyKnown := false
	for rest := line; ; {
		name, after, more := cutSpace(rest)
		if !isName(name) {
			return false
		}
		if _, ok := known[string(name)]; ok {
			anyKnown = true
		}
		if !more {
			return anyKnown
		}
		rest = after
	}
}

// parseHeader reads a header line (one that looksLikeHeader).
func parseHeader(line []byte) (*header, error) {
	names := strings.Split(string(line), " ")
	if len(names) > maxColumns {
		return nil, fmt.Errorf("header names %d fields, more than the %d this format reads", len(names), maxColumns)
	}
	h := &header{cols: make([]column, len(names))}
	seen := make(map[string]string, len(names))
	for i, name := range names {
		f, ok := known[name]
		doc := strings.ReplaceAll(name, "-", "_")
		if !ok && ecsNames[doc] {
			// An unknown field that would collide with an ECS object.
			doc = "vpcflow_" + doc
		}
		if other, dup := seen[doc]; dup {
			if other == name {
				return nil, fmt.Errorf("header names %s twice", name)
			}
			return nil, fmt.Errorf("header fields %s and %s would both be written as %s", other, name, doc)
		}
		seen[doc] = name
		h.cols[i] = column{field: f, member: `,"` + doc + `":`, name: name}
		h.names += len(h.cols[i].member)
		if f.role == rStart || f.role == rEnd {
			h.hasTime = true
		}
	}
	if !h.hasTime {
		return nil, fmt.Errorf("header names neither start nor end: its records would have no time")
	}
	return h, nil
}

// cutSpace cuts s at its first space: the value before it, what follows,
// and whether there was a space.
func cutSpace(s []byte) (value, rest []byte, more bool) {
	for i, c := range s {
		if c == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, nil, false
}
