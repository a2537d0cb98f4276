# shellcheck shell=sh
# Environment for tests against the local stack started by testenv/services.sh.
# Source it (POSIX sh, as make's /bin/sh does):   . testenv/env.sh && go test ...
#
# MOTO_PORT / OPENSEARCH_PORT (same overrides as services.sh) or MOTO_URL / OPENSEARCH_URL
# choose the endpoints. The AWS SDK always goes to moto with dummy credentials: real
# credentials, profiles and session tokens from the caller's environment are dropped so a
# test can never reach a real AWS account.

MOTO_URL="${MOTO_URL:-http://127.0.0.1:${MOTO_PORT:-5000}}"
OPENSEARCH_URL="${OPENSEARCH_URL:-http://127.0.0.1:${OPENSEARCH_PORT:-9200}}"
export MOTO_URL OPENSEARCH_URL

# aws-sdk-go-v2 (and boto3) read AWS_ENDPOINT_URL as the endpoint for every service.
AWS_ENDPOINT_URL="$MOTO_URL"
AWS_REGION="${AWS_REGION:-us-east-1}"
AWS_DEFAULT_REGION="$AWS_REGION"
AWS_ACCESS_KEY_ID="test"
AWS_SECRET_ACCESS_KEY="test"
AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
