"""Bad input becomes a Python exception with kiln's one-line message, never a
crash of the interpreter."""
import numpy as np
import pytest

import kiln
from conftest import spiral_builder


@pytest.fixture
def plan():
    return kiln.compile(spiral_builder(), lr=1.0)


def test_wrong_shape_names_node_and_both_types(plan):
    with pytest.raises(ValueError) as e:
        plan.feed("x", np.zeros((300, 3), dtype=np.float32))
    assert str(e.value) == "Plan.feed: node 'x' (input) is f32 [300, 2] (NumPy float32), given float32 [300, 3]"


def test_wrong_dtype_is_not_converted(plan):
    with pytest.raises(ValueError, match=r"node 'x' \(input\) is f32 \[300, 2\].*given float64 \[300, 2\]"):
        plan.feed("x", np.zeros((300, 2)))
    with pytest.raises(ValueError, match=r"node 'y' \(labels\) is i32 \[300\].*given int64 \[300\]"):
        plan.feed("y", np.zeros(300, dtype=np.int64))
    with pytest.raises(ValueError, match="node 'fc1/W'"):
        plan.set_param("fc1/W", np.zeros((2, 100)))


def test_unknown_node(plan):
    for call in (lambda: plan.feed("nope", np.zeros(1, np.float32)), lambda: plan.input("nope"),
                 lambda: plan.param("nope"), lambda: plan.grad("nope")):
        with pytest.raises(ValueError, match="'nope'"):
            call()


def test_labels_out_of_range_and_unfed(plan, spiral):
    with pytest.raises(ValueError, match="never fed|not fed"):
        plan.step()
    bad = np.zeros(300, dtype=np.int32)
    bad[7] = 3
    with pytest.raises(ValueError, match="row 7"):
        plan.feed("y", bad)


def test_wrong_kind_of_node(plan):
    with pytest.raises(ValueError, match="not a param"):
        plan.set_param("x", np.zeros((300, 2), np.float32))
    with pytest.raises(ValueError):
        plan.labels("x")
    with pytest.raises(ValueError, match="stage"):
        spiral_builder().graph().to_dot(stage="nope")
    with pytest.raises(ValueError, match="dtype"):
        kiln.Builder().input("x", (2,), "f16")
    with pytest.raises(ValueError, match="kiln.Graph"):
        kiln.compile(42)
    with pytest.raises(ValueError, match="another Builder"):
        kiln.Builder().set_loss(kiln.Builder().scalar(1.0))


def test_non_finite_loss_names_the_node():
    g = kiln.Builder()
    x = g.input("x", (2, 2))
    w = g.param("w", (2, 2), kiln.Init.constant(1.0))
    g.set_loss(g.sum(g.log(g.matmul(x, w)), name="loss"))
    plan = kiln.compile(g, lr=0.1)
    plan.feed("x", np.array([[1, -1], [1, 2]], dtype=np.float32))  # a zero reaches log
    with pytest.raises(RuntimeError, match="non-finite|NaN|inf") as e:
        plan.step()
    assert "log" in str(e.value)
    assert np.array_equal(plan.param("w"), np.ones((2, 2)))  # no update ran


def test_memory_limit_is_memory_error():
    with pytest.raises(MemoryError, match="--max-memory allows 1.0 KiB"):
        kiln.compile(kiln.build_model("mlp"), max_memory="1K")


def test_bad_checkpoint_and_graph_files(plan, tmp_path):
    missing = str(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="missing.safetensors"):
        plan.load(missing)
    with pytest.raises(ValueError, match="missing.json"):
        kiln.load_graph(str(tmp_path / "missing.json"))
