# torchlab: `make demo` runs every part quickly and writes the report;
# `make test` runs the tests. Both prepare the machine first (`make setup`).

GO ?= go
# Tests link libtorch; two test binaries at once is all 2 cores can take.
TESTFLAGS ?= -count=1 -timeout 30m

.PHONY: all setup build test test-gc vet bench fuzz demo assignment report-pdf check-report clean

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

# The tests with a collection at every allocation: a tensor that gotch's
# finalizer frees while libtorch still reads it shows up here as a wrong
# number or a crash. About 15 minutes on 2 cores; not part of make test.
test-gc: vet
	GOGC=1 $(GO) test $(TESTFLAGS) ./...

bench: setup
	@bash scripts/bench.sh

# Every fuzz target (file parsers, the cnn-calc spec, predict's input) for
# FUZZTIME each, default 60s: make fuzz FUZZTIME=10m. Their seed corpora
# run in make test. Not part of make test.
FUZZTIME ?= 60s
fuzz: setup
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

demo: setup
	@bash scripts/demo.sh

# The whole assignment as specified (hours on 2 cores), part by part into
# out/assignment/<part>/, each resumed from its checkpoint or skipped when
# done, then docs/results/assignment.md with the times and the results
# beside the committed runs. PARTS="vgg lstm" runs some parts; SMOKE=1 runs
# tiny settings in minutes and writes out/assignment-smoke/assignment.md.
# Takes the heavy-job lock. Not part of make test.
assignment: setup
	@bash scripts/assignment.sh

# The report alone (docs/results/ and what make demo left in out/demo/),
# with report.pdf printed by headless Chromium.
report-pdf: setup
	$(GO) build -o bin/report ./cmd/report
	bin/report --out out/report --pdf

# Opens out/report/report.html in headless Chromium and fails on an image
# that does not decode, a script error or a formula left as TeX; saves a
# screenshot and renders the PDF's first pages. Not part of make test.
check-report:
	@bash scripts/check-report.sh

clean:
	rm -rf build out
