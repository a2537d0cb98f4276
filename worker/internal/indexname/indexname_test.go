package indexname

import "testing"

func TestCheck(t *testing.T) {
	for _, ok := range []string{"guardduty", "logtide-deadletter", "gd.v2", "a"} {
		if err := Check(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'a'
	}
	for _, bad := range []string{"", ".", "..", "-x", "_x", "+x", "GuardDuty", "a b", "a,b", "a*", "a/b", `a\b`, "a?", "a#", "a:b", `a"b`, "a<b", "a>b", "a|b", string(long)} {
		if err := Check(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}
