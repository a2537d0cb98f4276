#!/bin/sh
# One-shot provisioning of the local AWS side for docker-compose.yml, on moto:
# the bucket GuardDuty would export to, the queue its ObjectCreated notifications
# go to, and the dead-letter queue behind it (redrive after MAX_RECEIVE_COUNT
# receives). Safe to run again: existing queues and bucket are kept.
set -eu

: "${AWS_ENDPOINT_URL:?AWS_ENDPOINT_URL must point at moto: this script never provisions real AWS}"
BUCKET="${BUCKET:-guardduty-exports}"
QUEUE="${QUEUE:-guardduty-findings}"
VISIBILITY_TIMEOUT="${VISIBILITY_TIMEOUT:-60}"
MAX_RECEIVE_COUNT="${MAX_RECEIVE_COUNT:-5}"

awsl() { aws --endpoint-url "$AWS_ENDPOINT_URL" --output text "$@"; }

dlq_url=$(awsl sqs create-queue --queue-name "$QUEUE-dlq" --query QueueUrl)
dlq_arn=$(awsl sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names QueueArn --query Attributes.QueueArn)

# RedrivePolicy is a JSON document inside a string attribute.
attrs=$(mktemp)
cat >"$attrs" <<JSON
{
  "VisibilityTimeout": "$VISIBILITY_TIMEOUT",
  "RedrivePolicy": "{\"deadLetterTargetArn\":\"$dlq_arn\",\"maxReceiveCount\":\"$MAX_RECEIVE_COUNT\"}"
}
JSON
queue_url=$(awsl sqs create-queue --queue-name "$QUEUE" --attributes "file://$attrs" --query QueueUrl)
rm -f "$attrs"
queue_arn=$(awsl sqs get-queue-attributes --queue-url "$queue_url" --attribute-names QueueArn --query Attributes.QueueArn)

if ! awsl s3api head-bucket --bucket "$BUCKET" >/dev/null 2>&1; then
	awsl s3api create-bucket --bucket "$BUCKET" >/dev/null
fi
awsl s3api put-bucket-notification-configuration --bucket "$BUCKET" --notification-configuration \
	"{\"QueueConfigurations\":[{\"QueueArn\":\"$queue_arn\",\"Events\":[\"s3:ObjectCreated:*\"]}]}"

echo "provisioned: s3://$BUCKET -> $queue_url (dead letters after $MAX_RECEIVE_COUNT receives: $dlq_url)"
