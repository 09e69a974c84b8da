"""A training step through the module allocates nothing: Plan.step() in a
Python loop, counted by tests/alloc_hook's counter preloaded into a child
interpreter (tests/python/allocation_shim.cpp)."""
import os
import subprocess
import sys

import pytest

CHILD = r"""
import ctypes, sys
import kiln
counter = ctypes.CDLL(sys.argv[1])
counter.kiln_allocation_counter_close.restype = ctypes.c_size_t
if not counter.kiln_allocation_counter_available():
    print("unavailable")
    sys.exit(0)
x, y = kiln.load_dataset("spiral")["train"]
for optimizer in ("sgd", "adam"):
    plan = kiln.compile(kiln.build_model("spiral-net"), optimizer=optimizer, lr=0.1, threads=1)
    plan.input("x")[:] = x
    plan.labels("y")[:] = y
    step = plan.step
    for _ in range(20):  # first steps may set things up
        step()
    counts = []
    for n in (0, 500):
        counter.kiln_allocation_counter_open()
        for _ in range(n):
            step()
        counts.append(counter.kiln_allocation_counter_close())
    print(optimizer, counts[0], counts[1])
"""


def test_a_step_from_python_allocates_nothing():
    shim = os.environ.get("KILN_ALLOCATION_SHIM", "")
    if not os.path.exists(shim):
        pytest.skip("KILN_ALLOCATION_SHIM does not name the built allocation counter")
    # The question here is what the module adds to a step. Which GEMM backends
    # allocate is tests/runtime/plan_alloc_test.cpp's; oneDNN, which only runs
    # when forced (KILN_GEMM=dnnl), allocates inside its own execute().
    env = dict(os.environ, LD_PRELOAD=shim)
    if env.get("KILN_GEMM") == "dnnl":
        env["KILN_GEMM"] = "auto"
    out = subprocess.run([sys.executable, "-c", CHILD, shim], env=env, capture_output=True, text=True, check=True,
                         timeout=120).stdout
    if out.strip() == "unavailable":
        pytest.skip("the allocation counter is not available in this build")
    for line in out.strip().splitlines():
        optimizer, empty_loop, steps = line.split()
        # What the counting window itself costs, with no step: 500 steps add nothing to it.
        assert int(steps) == int(empty_loop), line
