# tavolo: the two commands a fresh Debian 12 machine needs are
#   make run    install what is missing, build, serve on port 7777
#   make test   install what is missing, build (also with ASan+UBSan), test
# Needed before them: make, git (to clone), root or sudo (apt). Checked on
# an empty Debian 12 root by scripts/fresh-check.sh (not part of `make test`).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PORT       ?= 7777
DATA       ?= ./tavolo-data

.PHONY: all build run test test-release test-asan fuzz bench bench-cluster bench-bots soak deps deps-test deps-fuzz browser-deps clean

all: build

deps:
	@scripts/deps.sh

deps-test:
	@scripts/deps.sh test

deps-fuzz:
	@scripts/deps.sh fuzz

# playwright-core, exactly as locked (it never downloads a browser).
browser-deps: tests/browser/node_modules/.installed
tests/browser/node_modules/.installed: tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund
	touch $@

# The server's own build needs neither Python nor Node: configure it without
# the tests (CMakeLists.txt, TAVOLO_TESTS) and build only the binary, so
# `make run` on a fresh machine needs just what `scripts/deps.sh` installs.
# A build dir that `make test` configured keeps TAVOLO_TESTS=ON in its cache;
# building --target tavolo still compiles the server alone.
$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS) --target tavolo

run: build
	mkdir -p $(DATA)
	./$(BUILD)/tavolo --port $(PORT) --data $(DATA)

# Every test twice: against the optimised build and under the sanitizers.
# Both halves always run, even when the first fails (a sanitizer finding is
# no reason to hide a release failure or the other way round); at the end
# each half's ctest summary is printed again, and the exit status is
# non-zero if either failed. Each half writes its ctest output to
# <dir>/ctest.log (ctest -O), removed first so a stale log is never quoted.
test: deps-test browser-deps
	@rc_rel=0; rc_asan=0; \
	$(MAKE) --no-print-directory test-release || rc_rel=$$?; \
	$(MAKE) --no-print-directory test-asan || rc_asan=$$?; \
	echo; echo "==== make test: summary"; \
	for half in "release $(BUILD) $$rc_rel" "asan+ubsan $(ASAN_BUILD) $$rc_asan"; do \
	  set -- $$half; \
	  if [ "$$3" -eq 0 ]; then v=PASS; else v="FAIL (exit $$3)"; fi; \
	  echo "== $$1 ($$2): $$v"; \
	  if [ -f "$$2/ctest.log" ]; then \
	    sed -n '/tests passed, .* tests failed out of/,$$p' "$$2/ctest.log" \
	      | grep -v -e '^Errors while running CTest' -e '^Output from these tests' -e '^\[[A-Z_]*\]' \
	                -e '^Use "--rerun-failed' -e '^$$' || echo "   (no ctest summary: see above)"; \
	  else echo "   (ctest did not run: the build failed, see above)"; fi; \
	done; \
	if [ $$rc_rel -ne 0 ] || [ $$rc_asan -ne 0 ]; then echo "==== make test: FAIL"; exit 1; fi; \
	echo "==== make test: PASS"

# -DTAVOLO_TESTS=ON on every run, not only the first: the same build dir may
# have been configured by `make build` without the tests.
test-release:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAVOLO_TESTS=ON >/dev/null
	rm -f $(BUILD)/ctest.log
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300 -O ctest.log

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTAVOLO_SANITIZE=ON -DTAVOLO_TESTS=ON >/dev/null
	rm -f $(ASAN_BUILD)/ctest.log
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 600 -O ctest.log

# libFuzzer drivers (clang): build/fuzz/fuzz_* CORPUS_DIR -max_total_time=60
fuzz: deps-fuzz
	CC=clang cmake -S . -B build-fuzz -DTAVOLO_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-fuzz -j $(JOBS) --target fuzz_session
	@echo "run: build-fuzz/tests/fuzz/fuzz_session tests/fuzz/corpus/session"

bench: build
	cmake --build $(BUILD) --target gameload
	bench/run.sh
	bench/tls.py --doc docs/PERFORMANCE.md
	cmake --build $(BUILD) --target tavolo_next 2>/dev/null || true
	bench/upgrade.py --bin $(BUILD)/tavolo --conns 10000 --rounds 3
	bench/cluster.sh --doc docs/CLUSTER.md
	bench/cluster.sh --load

# Cross-node vs same-node turn latency, Redis round trips per move (~20 s),
# then players carried at p99 < 5 ms, one node vs three (~3 min).
bench-cluster: build
	bench/cluster.sh --doc docs/CLUSTER.md
	cmake --build $(BUILD) --target gameload
	bench/cluster.sh --load

# Long runs that do not fit make test: the rules' property tests at their
# full size (100 000 random matches per game; make test runs fewer), with
# no per-test alarm. Figures in docs/PERFORMANCE.md.
SOAK_BUILD ?= build-soak
soak: deps-test
	cmake -S . -B $(SOAK_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAVOLO_TESTS=ON \
	  -DCMAKE_C_FLAGS="-DPROPERTY_MATCHES=100000 -DPROP_MATCHES=100000" >/dev/null
	cmake --build $(SOAK_BUILD) -j $(JOBS) --target test_briscola test_scopa test_hearts test_match
	cd $(SOAK_BUILD)/tests && for t in briscola scopa hearts match; do \
	  CHECK_ALARM_S=0 ./test_$$t || exit 1; done
	cmake --build $(SOAK_BUILD) -j $(JOBS) --target tavolo
	TAVOLO_SOAK=1 TAVOLO_BIN=$(CURDIR)/$(SOAK_BUILD)/tavolo \
	  python3 tests/integration/test_cluster_failover.py test_kill_repeat

# The bots' strength and cost: 2000 matches per pairing (hours: docs/BOTS.md);
# MATCHES=200 for a shorter run; HARD_BUDGETS="scopa:1000 hearts:150" and
# SHORT="scopa:40" (bench/bots.sh) for per-game budgets and full-budget runs.
# The bots under load: bench/botload.sh (docs/BOTS.md "Load").
MATCHES ?= 2000
bench-bots: build
	JOBS=$(JOBS) bench/bots.sh $(MATCHES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(SOAK_BUILD) build-fuzz

# ---------- packaging (docs/OPERATIONS.md, "Installing and running as a service")
# make install [PREFIX=/usr/local] [DESTDIR=]: the binary in PREFIX/sbin,
# tavolo(8), the example config and OPERATIONS.md in PREFIX/share/doc/tavolo,
# the systemd units in PREFIX/lib/systemd/system.
# make deb: build-deb/tavolo_*.deb from a copy of the tree (tracked and
# untracked files, not ignored ones), then lintian (fails on an error).
# make deb-check [DEB=path/to/tavolo_*.deb]: boots a fresh Debian 12 under
# qemu (KVM, else TCG), installs the package there with apt and checks the
# service under systemd (scripts/deb-boot-check.sh; root, minutes: not part
# of make test). Without DEB it runs make deb first.
PREFIX  ?= /usr/local
DEB_DIR ?= build-deb
DEB     ?=
.PHONY: install deb deb-check

install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

deb:
	@scripts/deps.sh pkg
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src/tavolo
	git ls-files -z -c -o --exclude-standard | \
	  tar --null -T - --ignore-failed-read -cf - | tar -C $(DEB_DIR)/src/tavolo -xf -
	cd $(DEB_DIR)/src/tavolo && nice dpkg-buildpackage -us -uc -b
	mv $(DEB_DIR)/src/*.deb $(DEB_DIR)/src/*.changes $(DEB_DIR)/src/*.buildinfo $(DEB_DIR)/
	lintian --fail-on error --info $(DEB_DIR)/*.changes
	@ls -1 $(DEB_DIR)/*.deb

deb-check:
	scripts/deb-boot-check.sh $(DEB)
