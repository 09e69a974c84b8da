# kiln — the two commands:
#
#   make demo   install what is missing, build (Release) in build/, run the demo
#   make test   install what is missing, build in build/, run every test (ctest)
#
# Also: make bench (the benchmark suites), make compare (kiln, PyTorch and
# NumPy side by side: docs/benchmarks.md), make clean (removes build/ and out/).
# On a fresh Debian 12 machine make itself comes first: apt-get install -y make
# (scripts/setup.sh installs everything else, with sudo when not root).

BUILD_DIR := build
OUT_DIR := out
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CONFIGURE := cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

.PHONY: demo test bench compare clean test-sanitize fuzz

demo:
	scripts/setup.sh demo
	$(CONFIGURE) -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCHMARKS=OFF
	cmake --build $(BUILD_DIR) -j $(JOBS)
	scripts/demo.sh $(BUILD_DIR) $(OUT_DIR)

# Benchmarks are built too (not run), so they cannot rot unnoticed.
test:
	scripts/setup.sh test
	$(CONFIGURE) -DKILN_BUILD_TESTS=ON -DKILN_BUILD_BENCHMARKS=ON
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && XDG_CACHE_HOME=$$PWD/xdg-cache ctest --output-on-failure -j2

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer in its
# own build directory. -fno-sanitize-recover makes any UB fatal; asserts stay
# on (-O1 -g, no NDEBUG). The flags are exported too, so that what the tests
# build themselves (the find_package consumer) links against the sanitizer
# runtimes as well.
SANITIZE_DIR := build-sanitize
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
test-sanitize: export CXXFLAGS := $(SANITIZE_FLAGS)
test-sanitize: export LDFLAGS := $(SANITIZE_FLAGS)
test-sanitize: export ASAN_OPTIONS := detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
test-sanitize: export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1
test-sanitize:
	scripts/setup.sh test
	cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
	  -DKILN_BUILD_TESTS=ON -DKILN_BUILD_BENCHMARKS=OFF
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	cd $(SANITIZE_DIR) && ctest --output-on-failure -j2

# libFuzzer harnesses (tests/fuzz/), built with clang in their own build
# directory and each run for SECONDS seconds from its seed corpus. The
# vector kernels are built for one baseline -march there: clang 14 rejects
# the "x86-64-v4" name their AVX-512/AVX2 clones are dispatched on, and the
# harnesses fuzz readers, not kernels.
FUZZ_DIR := build-fuzz
SECONDS ?= 60
fuzz:
	scripts/setup.sh fuzz
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
	  -DKILN_BUILD_FUZZERS=ON -DKILN_BUILD_TESTS=ON -DKILN_BUILD_BENCHMARKS=OFF -DKILN_BUILD_EXAMPLES=OFF \
	  -DKILN_VECTOR_MATH_ARCH=x86-64
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzzers
	tests/fuzz/run_fuzzers.sh $(FUZZ_DIR) $(SECONDS)

# Figures, not tests: run under a light load (see docs/benchmarks.md).
bench:
	scripts/setup.sh bench
	$(CONFIGURE) -DKILN_BUILD_BENCHMARKS=ON
	cmake --build $(BUILD_DIR) -j $(JOBS) --target bench

# kiln (kiln bench --json), PyTorch eager and NumPy on the same workloads,
# one markdown table of medians and ratios.
compare:
	scripts/setup.sh bench
	$(CONFIGURE) -DKILN_BUILD_BENCHMARKS=ON
	cmake --build $(BUILD_DIR) -j $(JOBS) --target kiln_cli python_module
	/usr/bin/python3 benchmarks/peers/compare.py --kiln $(BUILD_DIR)/kiln

clean:
	rm -rf $(BUILD_DIR) $(OUT_DIR)
