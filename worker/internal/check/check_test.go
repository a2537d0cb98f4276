package check

import (
	"bytes"
	"testing"
)

func TestReportWrite(t *testing.T) {
	var r Report
	r.add("queue", "queue exists", Pass, "arn", "")
	r.add("queue", "redrive policy", Fail, "none", "set one")
	r.add("bucket", "bucket", Skip, "not given", "ignored for a skip")
	if r.OK() {
		t.Error("a report with a failure is OK")
	}
	var b bytes.Buffer
	r.Write(&b)
	want := `queue
  PASS  queue exists                 arn
  FAIL  redrive policy               none
        hint: set one
bucket
  SKIP  bucket                       not given
1 passed, 1 failed, 1 skipped
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if !(Report{{Status: Pass}, {Status: Skip}}).OK() {
		t.Error("passes and skips are not OK")
	}
}
