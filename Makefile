# tavolo: the two commands a fresh Debian/Ubuntu machine needs are
#   make run    install what is missing, build, serve on port 7777
#   make test   install what is missing, build (also with ASan+UBSan), test
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PORT       ?= 7777
DATA       ?= ./tavolo-data

.PHONY: all build run test test-release test-asan fuzz bench bench-bots deps deps-test browser-deps clean

all: build

deps:
	@scripts/deps.sh

deps-test:
	@scripts/deps.sh test

# playwright-core, exactly as locked (it never downloads a browser).
browser-deps: tests/browser/node_modules/.installed
tests/browser/node_modules/.installed: tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund
	touch $@

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

$(ASAN_BUILD)/Makefile:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTAVOLO_SANITIZE=ON >/dev/null

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

run: build
	mkdir -p $(DATA)
	./$(BUILD)/tavolo --port $(PORT) --data $(DATA)

# Every test twice: against the optimised build and under the sanitizers.
test: deps-test browser-deps test-release test-asan

test-release: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

test-asan: $(ASAN_BUILD)/Makefile
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 600

# libFuzzer drivers (clang): build/fuzz/fuzz_* CORPUS_DIR -max_total_time=60
fuzz: deps-test
	CC=clang cmake -S . -B build-fuzz -DTAVOLO_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target fuzz_session
	@echo "run: build-fuzz/tests/fuzz/fuzz_session tests/fuzz/corpus/session"

bench: build
	bench/run.sh

# The bots' strength and cost: 2000 matches per pairing (hours: docs/BOTS.md);
# MATCHES=200 for a shorter run.
MATCHES ?= 2000
bench-bots: build
	JOBS=$(JOBS) bench/bots.sh $(MATCHES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
