#!/usr/bin/env bash
# The README's first command (via `make demo`): services are up and bin/worker is
# built by make; this provisions the local bucket and queue, uploads generated
# objects of every log type, runs the worker until idle and prints what landed.
set -euo pipefail
cd "$(dirname "$0")/.."
. testenv/env.sh
exec go run ./testenv/demo "$@"
