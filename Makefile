# kubectl-stretch. `make demo` renders the bundled example into ./out;
# `make test` runs every test, the real-cluster ones included, then every
# fuzz target for FUZZTIME each. It installs the system tools the tests
# run (.ci/tools) when it can, or stops naming the missing ones.

SHELL       := /usr/bin/env bash
GO          ?= go
BIN         := bin
TESTBIN     := $(abspath $(BIN)/testbin)
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse --short HEAD 2>/dev/null)
PKG         := github.com/stretch-dev/kubectl-stretch
# Reproducible builds: no build ID, no paths, no cgo.
LDFLAGS     := -s -w -buildid= -X $(PKG)/cmd/kubectl-stretch/app.Version=$(VERSION) -X $(PKG)/cmd/kubectl-stretch/app.Commit=$(COMMIT)
# krew needs a semantic version with a leading v.
KREW_VERSION ?= $(if $(filter v%,$(VERSION)),$(VERSION),v0.0.0-$(VERSION))
PLATFORMS   := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
TEST_FLAGS  ?= -timeout 40m
FUZZTIME    ?= 15s
# How many runs Go spends minimizing each new input (its default, 60 s,
# takes a short run whole).
FUZZMINIMIZE ?= 200x

.PHONY: all build demo test test-short tools fuzz testbin bench lint fmt dist clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kubectl-stretch ./cmd/kubectl-stretch

demo: build
	rm -rf out
	$(BIN)/kubectl-stretch render -f testdata/topology.yaml -o out

# testbin builds the simulated cluster (etcd, kube-apiserver, ...) and the
# real callers the tests use (kustomize, Helm 4) from the Go module proxy,
# reusing what is already built. Versions: internal/testbin/versions.env.
testbin:
	internal/testbin/build.sh $(TESTBIN)
	internal/testbin/go-install.sh $(TESTBIN)

# STRETCH_REQUIRE_TOOLS=1 makes a test whose tool is missing fail, not skip.
test: tools testbin build
	STRETCH_REQUIRE_TOOLS=1 STRETCH_TESTBIN=$(TESTBIN) $(GO) test $(TEST_FLAGS) ./...
	$(MAKE) fuzz

# tools installs the missing tools of .ci/tools (apt-get, as root or with
# sudo) or stops naming each one and its package.
tools:
	.ci/require-tools

# fuzz runs each target of .ci/fuzz-targets for FUZZTIME; a failure stops
# it, prints the failing input and leaves it under the package's
# testdata/fuzz/ for go test to replay.
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZMINIMIZE=$(FUZZMINIMIZE) .ci/fuzz

# test-short skips the tests that need bin/testbin or a system tool.
test-short:
	$(GO) test -short ./...

bench: testbin
	STRETCH_TESTBIN=$(TESTBIN) $(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# dist builds release archives (the binary, the kubectl completion shim,
# LICENSE and README.md) and writes dist/krew.yaml with their sha256. A
# release copies dist/krew.yaml over krew.yaml when VERSION is its tag.
dist:
	rm -rf dist && mkdir -p dist
	set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; d=dist/kubectl-stretch_$${os}_$${arch}; mkdir -p $$d; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$d/kubectl-stretch ./cmd/kubectl-stretch; \
	  cp LICENSE README.md plugins/kubectl/kubectl_complete-stretch $$d/; \
	  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C $$d -cf - kubectl-stretch kubectl_complete-stretch LICENSE README.md | gzip -n -9 > $$d.tar.gz; \
	  rm -rf $$d; \
	done
	$(GO) run ./cmd/krew-manifest -version $(KREW_VERSION) -dist dist -o dist/krew.yaml

clean:
	rm -rf $(BIN) out dist
