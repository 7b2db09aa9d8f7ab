# torchlab: `make demo` runs every part quickly and writes the report;
# `make test` runs the tests. Both prepare the machine first (`make setup`).

GO ?= go
# Tests link libtorch; two test binaries at once is all 2 cores can take.
TESTFLAGS ?= -count=1 -timeout 30m

.PHONY: all setup build test vet bench demo clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	$(GO) build ./...

vet: setup
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

test: vet
	$(GO) test $(TESTFLAGS) ./...

bench: setup
	@bash scripts/bench.sh

demo: setup
	@bash scripts/demo.sh

clean:
	rm -rf build out
