#!/usr/bin/python3
"""kiln grad against NumPy's hand-derived gradients for the seed models.

For each example graph (a stack of dense layers, ReLU between them,
softmax cross-entropy, optionally 0.5*lambda*||W||^2 on the weights) this
feeds identical random weights and data to `kiln grad`, then derives the
loss and gradients in NumPy with the seed formulas
    dS = (p - y) / N,  dW = X^T dS (+ lambda W),  db = sum(dS),
    dX = dS W^T masked by the ReLU,
in float64 from the same float32 values, and requires agreement to 1e-5.

usage: numpy_grad_reference.py KILN_BINARY GRAPH.json... (exit 0 = pass)
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:  # CTest maps this exit code to "skipped"
    print("SKIP: python3-numpy is not installed")
    sys.exit(77)


def dense_stack(graph):
    """The layers (W, b) in order, the L2 factor and which Ws it covers."""
    nodes = graph["nodes"]
    params = [n["name"] for n in nodes if n["op"] == "param"]
    layers = [(w, w[:-1] + "b") for w in params if w.endswith("/W")]
    ops = {n["op"] for n in nodes}
    allowed = {"input", "labels", "param", "matmul", "add", "relu", "softmax_cross_entropy", "l2", "scale"}
    assert ops <= allowed, f"not a dense stack: {sorted(ops - allowed)}"
    l2_inputs = [n["inputs"][0] for n in nodes if n["op"] == "l2"]
    scales = [n["factor"] for n in nodes if n["op"] == "scale"]
    lam = scales[0] if l2_inputs else 0.0
    return layers, lam, l2_inputs


def reference(x, labels, weights, layers, lam, l2_on):
    acts = [x]
    h = x
    for i, (w, b) in enumerate(layers):
        z = h @ weights[w] + weights[b]
        h = np.maximum(z, 0) if i + 1 < len(layers) else z
        acts.append(h)
    n = x.shape[0]
    shifted = h - h.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(n), labels].mean()
    loss += sum(0.5 * lam * (weights[w] ** 2).sum() for w in l2_on)
    p = np.exp(logp)
    p[np.arange(n), labels] -= 1
    ds = p / n
    grads = {}
    for i in reversed(range(len(layers))):
        w, b = layers[i]
        grads[w] = acts[i].T @ ds + (lam * weights[w] if w in l2_on else 0)
        grads[b] = ds.sum(axis=0)
        if i > 0:
            ds = (ds @ weights[w].T) * (acts[i] > 0)
    return loss, grads


def check(kiln, graph_path, rng):
    graph = json.load(open(graph_path))
    layers, lam, l2_on = dense_stack(graph)
    shapes = {n["name"]: n["shape"] for n in graph["nodes"] if "shape" in n}
    classes = next(n["classes"] for n in graph["nodes"] if n["op"] == "labels")
    with tempfile.TemporaryDirectory() as tmp:
        feeds = {"x": rng.standard_normal(shapes["x"]).astype(np.float32),
                 "y": rng.integers(0, classes, shapes["y"]).astype(np.int64)}
        for w, b in layers:
            feeds[w] = (rng.standard_normal(shapes[w]) * 0.1).astype(np.float32)
            feeds[b] = (rng.standard_normal(shapes[b]) * 0.1).astype(np.float32)
        args = [kiln, "grad", graph_path, "--out", os.path.join(tmp, "out")]
        for name, value in feeds.items():
            path = os.path.join(tmp, name.replace("/", "__") + ".npy")
            np.save(path, value)
            args += ["--feed", f"{name}={path}"]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        weights = {k: v.astype(np.float64) for k, v in feeds.items() if k not in ("x", "y")}
        loss, grads = reference(feeds["x"].astype(np.float64), feeds["y"], weights, layers, lam, l2_on)
        worst = abs(float(np.load(os.path.join(tmp, "out", "loss.npy"))) - loss) / max(1.0, abs(loss))
        for name, expected in grads.items():
            got = np.load(os.path.join(tmp, "out", "grad", name.replace("/", "__") + ".npy"))
            assert got.dtype == np.float32 and got.shape == expected.shape, (name, got.dtype, got.shape)
            err = np.abs(got - expected).max() / max(1.0, np.abs(expected).max())
            worst = max(worst, err)
        status = "ok" if worst <= 1e-5 else "FAILED"
        print(f"{os.path.basename(graph_path)}: loss {loss:.6f}, worst scaled error {worst:.2e} {status}")
        return worst <= 1e-5


def main():
    kiln, graphs = sys.argv[1], sys.argv[2:]
    rng = np.random.default_rng(0)
    results = [check(kiln, g, rng) for g in graphs]
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
