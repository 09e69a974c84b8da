"""The module's surface: graphs, the builder, compiling, a plan's accounts."""
import numpy as np
import pytest

import kiln
from conftest import numpy_scores, spiral_builder


def test_builder_names_and_shapes():
    g = kiln.Builder()
    x = g.input("x", (4, 3))
    h = kiln.dense(g, x, 5, "fc1")
    assert x.shape == (4, 3) and x.dtype == "f32"
    assert h.name == "fc1/add" and h.shape == (4, 5)
    assert g.graph().params() == {"fc1/W": (3, 5), "fc1/b": (5,)}
    t = g.tanh(h)
    assert t.op == "tanh" and t.name == "tanh"
    assert (2.0 * t).op == "scale" and (t * t).op == "mul" and (-t).op == "neg"


def test_graph_round_trip_and_pictures(tmp_path):
    graph = spiral_builder().graph()
    assert graph.loss == "loss"
    path = str(tmp_path / "spiral.json")
    graph.save(path)
    again = kiln.load_graph(path)
    assert again.to_json() == graph.to_json() == kiln.parse_graph(graph.to_json()).to_json()
    assert len(again) == len(graph)
    for stage in ("input", "fused", "backward", "planned"):
        dot = graph.to_dot(stage=stage)
        assert dot.startswith("digraph") and "fc1/W" in dot
    # Forward fusion turns matmul + add into one affine node.
    assert "affine" in graph.to_dot(stage="fused") and "affine" not in graph.to_dot(stage="input")


def test_build_model_matches_its_options():
    assert kiln.model_names() == ["logreg", "mlp", "spiral-net", "moons-net"]
    mlp = kiln.build_model("mlp", batch=8, hidden=[16])
    assert mlp.node("x")["shape"] == (8, 784)
    assert mlp.params()["fc1/W"] == (784, 16)
    assert kiln.build_model("logreg", dtype="f64").node("fc1/W")["dtype"] == "f64"


def test_plan_accounts(spiral):
    plan = kiln.compile(spiral_builder(), lr=1.0)
    memory = plan.memory()
    assert memory["total_bytes"] == (memory["arena_bytes"] + memory["param_bytes"] +
                                     memory["optimizer_state_bytes"] + memory["constant_bytes"])
    # Params are 2·100 + 100 + 100·3 + 3 floats.
    assert memory["param_bytes"] == 4 * (200 + 100 + 300 + 3)
    passes = [s["pass"] for s in plan.stats()]
    assert passes[0] == "verify" and passes[-1] == "memory_plan"
    assert "memory_plan" in plan.format_stats()
    assert sorted(plan.params()) == ["fc1/W", "fc1/b", "fc2/W", "fc2/b"]
    adam = kiln.compile(spiral_builder(), optimizer="adam", lr=1e-3)
    assert sorted(adam.params()) == sorted(plan.params())
    assert any(name.startswith("opt/") for name in adam.params(optimizer_state=True))


def test_set_param_and_param_copy(spiral):
    plan = kiln.compile(spiral_builder(), lr=1.0)
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    plan.set_param("fc2/b", np.array([1, 2, 3], dtype=np.float32))
    assert np.array_equal(plan.param("fc2/b"), [1, 2, 3])
    copy = plan.param("fc2/b")
    copy[:] = 0  # a copy: the plan's param is unchanged
    assert np.array_equal(plan.param("fc2/b"), [1, 2, 3])
    assert w.shape == (2, 3)


def test_training_steps_lower_the_loss(spiral):
    x, y = spiral
    for optimizer, lr in (("sgd", 1.0), ("momentum", 0.1), ("adam", 0.01)):
        plan = kiln.compile(spiral_builder(), optimizer=optimizer, lr=lr)
        plan.feed("x", x)
        plan.feed("y", y)
        first = plan.step()
        for _ in range(200):
            last = plan.step()
        assert last < 0.8 * first, optimizer
        assert plan.steps_run == 201


def test_evaluation_plan_shares_the_training_params(spiral):
    x, y = spiral
    train = kiln.compile(spiral_builder(), lr=1.0)
    train.feed("x", x)
    train.feed("y", y)
    for _ in range(50):
        train.step()
    g = kiln.Builder()
    ex = g.input("x", (10, 2))
    h = g.relu(kiln.dense(g, ex, 100, "fc1"))
    kiln.dense(g, h, 3, "fc2")
    scorer = kiln.compile(g, optimizer=None, share_params=train, outputs=["fc2/add"])
    scorer.input("x")[:] = x[:10]
    scorer.run()
    np.testing.assert_allclose(scorer.value("fc2/add"), numpy_scores(train.params(), x[:10]), rtol=1e-5, atol=1e-6)


def test_builder_has_a_method_for_every_op():
    # The op list (graph/ops.def) generates the Builder's methods, so none can be missing.
    names = kiln.op_names()
    assert "matmul" in names and "reshape" in names and "affine_relu" in names
    missing = [op for op in names if not callable(getattr(kiln.Builder, op, None))]
    assert missing == []


def test_generated_methods_take_attributes_by_position_or_keyword():
    g = kiln.Builder()
    x = g.input("x", (2, 3), dtype="f64")
    w = g.input("w", (4, 3), dtype="f64")
    assert g.matmul(x, w, transpose_b=True).shape == (2, 4)
    assert g.matmul(x, w, False, True, "xwt").name == "xwt"
    assert g.scale(x, 0.5).op == "scale" and g.scale(x, factor=2.0, name="twice").name == "twice"
    assert g.sum(x, 0).shape == (3,) and g.sum(x).shape == ()
    assert g.reshape(x, [0, -1]).shape == (2, 3)
    assert g.add_n([x, x, x]).shape == (2, 3)
    with pytest.raises(ValueError, match="missing attribute 'factor'"):
        g.scale(x)
    with pytest.raises(ValueError, match="unknown keyword 'axes'"):
        g.sum(x, axes=[0])
    with pytest.raises(ValueError, match="attribute 'factor': expected a finite number"):
        g.scale(x, float("inf"))
    # Operands by name too, as the hand-written methods took them; nothing twice.
    assert g.relu(x=x).op == "relu" and g.matmul(x, b=w, transpose_b=True).shape == (2, 4)
    with pytest.raises(ValueError, match="operand 'a' is given twice"):
        g.matmul(x, w, a=x)
    with pytest.raises(ValueError, match="attribute 'factor' is given twice"):
        g.scale(x, 2.0, factor=3.0)
    with pytest.raises(ValueError, match="missing operand 'b'"):
        g.matmul(x)
    with pytest.raises(ValueError, match="name must be a str"):
        g.relu(x, 3)


def test_softplus_matches_numpy():
    g = kiln.Builder()
    x = g.input("x", (2, 4), dtype="f64")
    g.softplus(x, name="y")
    plan = kiln.compile(g.graph(), optimizer=None, outputs=["y"])
    values = np.array([[-30.0, -1.0, 0.0, 1e-3], [2.0, 20.0, 40.0, -0.5]])
    plan.feed("x", values)
    plan.run()
    np.testing.assert_allclose(plan.value("y"), np.logaddexp(0.0, values), rtol=1e-13)
