"""Plan.grad against NumPy central differences of an independent NumPy
forward pass, in f64."""
import numpy as np

import kiln


def build(rows, features, hidden, classes):
    g = kiln.Builder()
    x = g.input("x", (rows, features), "f64")
    y = g.labels("y", rows, classes)
    h = g.tanh(kiln.dense(g, x, hidden, "fc1", kiln.Init.normal(0.5), kiln.Init.normal(0.1)))
    s = g.sigmoid(kiln.dense(g, h, hidden, "fc2", kiln.Init.normal(0.5), kiln.Init.normal(0.1)))
    logits = kiln.dense(g, s, classes, "fc3", kiln.Init.normal(0.5), kiln.Init.normal(0.1))
    g.set_loss(g.softmax_cross_entropy(logits, y, "loss"))
    return g


def numpy_loss(p, x, y):
    h = np.tanh(x @ p["fc1/W"] + p["fc1/b"])
    s = 1 / (1 + np.exp(-(h @ p["fc2/W"] + p["fc2/b"])))
    z = s @ p["fc3/W"] + p["fc3/b"]
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    rows, features, hidden, classes = 6, 4, 5, 3
    x = rng.normal(size=(rows, features))
    y = rng.integers(0, classes, size=rows).astype(np.int32)
    plan = kiln.compile(build(rows, features, hidden, classes), optimizer=None, seed=11)
    plan.feed("x", x)
    plan.feed("y", y)
    loss = plan.step()
    params = plan.params()
    assert abs(loss - numpy_loss(params, x, y)) < 1e-12
    eps = 1e-6
    for name, value in params.items():
        grad = plan.grad(name)
        assert grad.shape == value.shape and grad.dtype == np.float64
        numeric = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            p = {k: v.copy() for k, v in params.items()}
            p[name][i] += eps
            up = numpy_loss(p, x, y)
            p[name][i] -= 2 * eps
            numeric[i] = (up - numpy_loss(p, x, y)) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9, err_msg=name)


def test_gradient_of_an_input():
    rng = np.random.default_rng(4)
    plan = kiln.compile(build(3, 2, 4, 2), optimizer=None, wrt=["x"])
    x = rng.normal(size=(3, 2))
    y = np.array([0, 1, 1], dtype=np.int32)
    plan.feed("x", x)
    plan.feed("y", y)
    plan.step()
    params = plan.params()
    eps = 1e-6
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        numeric[i] = (numpy_loss(params, xp, y) - numpy_loss(params, xm, y)) / (2 * eps)
    np.testing.assert_allclose(plan.grad("x"), numeric, rtol=1e-6, atol=1e-9)
