package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// fakeSTS hands out credentials that expire after lifetime.
type fakeSTS struct {
	lifetime time.Duration
	calls    int
	external string
}

func (f *fakeSTS) AssumeRole(_ context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	f.calls++
	f.external = aws.ToString(in.ExternalId)
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String("ASIA" + string(rune('A'+f.calls))), SecretAccessKey: aws.String("s"), SessionToken: aws.String("t"),
		Expiration: aws.Time(time.Now().Add(f.lifetime)),
	}}, nil
}

// TestAssumedCredentialsAreRenewedEarly: credentials are reused while they
// have more than five minutes left, and renewed once they have less, before
// any request could carry expired ones.
func TestAssumedCredentialsAreRenewedEarly(t *testing.T) {
	ctx := context.Background()
	long := &fakeSTS{lifetime: time.Hour}
	p := assumeRole(long, "arn:aws:iam::111122223333:role/r", "ext")
	for range 3 {
		if _, err := p.Retrieve(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if long.calls != 1 || long.external != "ext" {
		t.Errorf("an hour left: %d calls to STS (external id %q), want 1", long.calls, long.external)
	}
	short := &fakeSTS{lifetime: 4 * time.Minute}
	p = assumeRole(short, "arn:aws:iam::111122223333:role/r", "")
	a, _ := p.Retrieve(ctx)
	b, _ := p.Retrieve(ctx)
	if short.calls != 2 || a.AccessKeyID == b.AccessKeyID {
		t.Errorf("four minutes left: %d calls to STS, keys %s %s; want a renewal at each use", short.calls, a.AccessKeyID, b.AccessKeyID)
	}
}
