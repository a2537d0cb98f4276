package resolver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// floor reads decompressed content the cheapest way a consumer that looks
// inside every record could: cut into lines, each line given to encoding/json
// into a struct of the fields the decoder reads. The benchmark sets the
// worker's CPU per GB against it.
func floor(content io.Reader) (int, error) {
	sc := bufio.NewScanner(content)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var f floorRecord
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			return n, fmt.Errorf("line %d: %w", n+1, err)
		}
		n++
	}
	return n, sc.Err()
}

// floorRecord holds the fields the decoder reads of a record.
type floorRecord struct {
	Version        string `json:"version"`
	AccountID      string `json:"account_id"`
	Region         string `json:"region"`
	VPCID          string `json:"vpc_id"`
	QueryTimestamp string `json:"query_timestamp"`
	QueryName      string `json:"query_name"`
	QueryType      string `json:"query_type"`
	QueryClass     string `json:"query_class"`
	Rcode          string `json:"rcode"`
	Answers        []struct {
		Rdata, Type, Class string
	} `json:"answers"`
	Srcaddr   string `json:"srcaddr"`
	Srcport   string `json:"srcport"`
	Transport string `json:"transport"`
	Srcids    struct {
		Instance                 string `json:"instance"`
		ResolverEndpoint         string `json:"resolver_endpoint"`
		ResolverNetworkInterface string `json:"resolver_network_interface"`
	} `json:"srcids"`
	FirewallRuleAction   string `json:"firewall_rule_action"`
	FirewallRuleGroupID  string `json:"firewall_rule_group_id"`
	FirewallDomainListID string `json:"firewall_domain_list_id"`
}
