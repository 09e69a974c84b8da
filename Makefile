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

.PHONY: demo test bench compare clean

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
	cd $(BUILD_DIR) && ctest --output-on-failure -j2

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
	cmake --build $(BUILD_DIR) -j $(JOBS) --target kiln_cli
	/usr/bin/python3 benchmarks/peers/compare.py --kiln $(BUILD_DIR)/kiln

clean:
	rm -rf $(BUILD_DIR) $(OUT_DIR)
