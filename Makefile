# Developer and CI entry points. Services are installed and cached under .cache/ by testenv/.
GO        ?= go
BIN       := bin
# The product module, and the modules of the benchmark harness and of the
# Kubernetes chart's checks (joined by go.work: their dependencies stay out of
# the product's go.mod).
PKGS      := ./... ./bench/... ./testenv/k8s/...

.PHONY: all build test unit integration fuzz chaos matrix lint demo services-up services-down services-status clean

all: build

build:
	$(GO) build -o $(BIN)/worker ./worker/cmd/worker

## unit: fast tests with no services.
unit:
	$(GO) test -race -count=1 $(PKGS)

## integration: tests against the real local stack (moto, OpenSearch).
integration: services-up
	. testenv/env.sh && $(GO) test -race -count=1 -tags integration -timeout 20m $(PKGS)

## fuzz: a short run of every fuzz target (FUZZTIME each).
FUZZTIME ?= 10s
fuzz:
	FUZZTIME=$(FUZZTIME) testenv/fuzz.sh

## chaos: worker processes killed and restarted, OpenSearch stopped and restarted,
## on generated data; then a minute of 403 on every bulk request and minutes of a
## stopped cluster. Fails on any lost, duplicated or regressed finding, and on any
## message the faults of the cluster pushed toward the dead-letter queue.
chaos: services-up
	. testenv/env.sh && $(GO) test -count=1 -tags chaos -timeout 25m -v -run 'TestChaos|TestClusterFaults' ./testenv/chaos/

## test: everything: lint, unit, integration, fuzz and chaos tests. Installs and
## starts what it needs. The tests on the public reference samples beside the
## repository (../shared/data) run where that folder exists; CI requires it.
SHARED_DATA ?= $(abspath $(CURDIR)/../shared/data)
export SHARED_DATA
test: lint services-up
	@test -d "$(SHARED_DATA)" || echo "make test: $(SHARED_DATA) not found: the tests on the public reference samples are skipped (CI runs them)"
	. testenv/env.sh && $(GO) test -race -count=1 -tags integration -timeout 20m $(PKGS)
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory chaos

## matrix: the end-to-end suite of the worker (every command, every format, on
## moto and the search engine) against each other engine of the compatibility
## matrix, started on the same port; the default engine (opensearch-2) is
## started again at the end. CI runs it after `make test`.
MATRIX ?= opensearch-3 elasticsearch-7
matrix:
	@set -e; for engine in $(MATRIX); do \
		echo "make matrix: $$engine"; \
		SEARCH=$$engine testenv/services.sh up; \
		. testenv/env.sh && $(GO) test -race -count=1 -tags integration -timeout 20m ./worker/cmd/worker/; \
	done; testenv/services.sh up

lint:
	testenv/lint.sh

demo: build services-up
	testenv/demo.sh

## SEARCH chooses the search engine: opensearch-2 (default), opensearch-3,
## elasticsearch-7 (make services-up SEARCH=elasticsearch-7).
export SEARCH
services-up:
	testenv/services.sh up

services-down:
	testenv/services.sh down

services-status:
	testenv/services.sh status

clean:
	rm -rf $(BIN)

## bench: throughput and cost of the worker against floors measured in the same run
## (decode floor, I/O floor), on seeded corpora; prints a table (see docs/benchmarks.md).
## BENCH_FLAGS passes options, e.g. BENCH_FLAGS=-record=docs/benchmarks.md.
## simulate: a burst and a trickle of objects through the fleet's scaling
## policies with the template's defaults; SIMULATE_FLAGS changes them, e.g.
## SIMULATE_FLAGS="-burst 100000 -max-tasks 30 -objects-per-task-minute 600".
.PHONY: simulate
SIMULATE_FLAGS ?=
simulate:
	$(GO) run ./bench/cmd/simulate $(SIMULATE_FLAGS)

.PHONY: bench
BENCH_FLAGS ?=
bench: build services-up
	$(GO) run ./bench/cmd/bench $(BENCH_FLAGS)
