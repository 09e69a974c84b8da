"""Plan.input / Plan.labels are the plan's own buffers, not copies."""
import gc

import numpy as np

import kiln
from conftest import numpy_scores, spiral_builder


def test_views_alias_the_fed_buffers(spiral):
    x, y = spiral
    plan = kiln.compile(spiral_builder(), lr=1.0)
    view = plan.input("x")
    assert view.dtype == np.float32 and view.shape == (300, 2) and view.flags.writeable
    assert np.shares_memory(view, plan.input("x"))  # the same buffer every time
    plan.feed("x", x)  # a copy into that buffer shows through the view
    assert np.array_equal(view, x)
    view[:] = 2 * x    # and a write through the view is what the plan reads
    plan.labels("y")[:] = y
    plan.step()
    assert np.array_equal(plan.value("x"), 2 * x)
    assert plan.labels("y").dtype == np.int32 and np.array_equal(plan.value("y"), y)


def test_step_reads_what_the_view_holds(spiral):
    """The loss of a step equals NumPy's loss of the batch written through the views."""
    x, y = spiral
    plan = kiln.compile(spiral_builder(dtype="f64"), optimizer=None)
    params = plan.params()
    rows = np.arange(300)
    for batch in (x, x[::-1].copy()):
        plan.input("x")[:] = batch
        plan.labels("y")[:] = y
        loss = plan.step()
        s = numpy_scores(params, batch.astype(np.float64))
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        expected = (-np.log(p[rows, y]).mean() +
                    1e-3 * 0.5 * ((params["fc1/W"] ** 2).sum() + (params["fc2/W"] ** 2).sum()))
        assert abs(loss - expected) < 1e-12


def test_a_view_keeps_its_plan_alive(spiral):
    x, _ = spiral
    view = kiln.compile(spiral_builder(), lr=1.0).input("x")
    gc.collect()
    view[:] = x  # the plan is gone from Python's names but not from memory
    assert np.array_equal(view, x)
