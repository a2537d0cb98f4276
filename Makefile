# Developer and CI entry points. Services are installed and cached under .cache/ by testenv/.
GO        ?= go
BIN       := bin
PKGS      := ./...

.PHONY: all build test unit integration lint demo services-up services-down services-status clean

all: build

build:
	$(GO) build -o $(BIN)/worker ./worker/cmd/worker

## unit: fast tests with no services.
unit:
	$(GO) test -race -count=1 $(PKGS)

## integration: tests against the real local stack (moto, OpenSearch).
integration: services-up
	. testenv/env.sh && $(GO) test -race -count=1 -tags integration -timeout 20m $(PKGS)

## test: everything: lint, unit and integration tests. Installs and starts what it needs.
test: lint services-up
	. testenv/env.sh && $(GO) test -race -count=1 -tags integration -timeout 20m $(PKGS)

lint:
	testenv/lint.sh

demo: build services-up
	testenv/demo.sh

services-up:
	testenv/services.sh up

services-down:
	testenv/services.sh down

services-status:
	testenv/services.sh status

clean:
	rm -rf $(BIN)
