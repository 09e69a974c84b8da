#!/usr/bin/python3
"""ONNX models exported by PyTorch at test time, imported by kiln, checked
against PyTorch itself (f32 throughout):

- forward: `kiln import --loss none`, then the graph file's output through
  the Python module equals the PyTorch module's output;
- gradients: `kiln grad MODEL.onnx` (imported on the fly, softmax
  cross-entropy) equals torch.autograd for the loss and every initializer,
  to 1e-5 relative;
- training: 50 SGD steps through the Python module (kiln.load_graph of the
  .onnx file, kiln.compile with sgd) equal torch.optim.SGD on the same 50
  batches, param by param. The module, not `kiln train`, because it feeds
  exactly the batches PyTorch sees: `kiln train` draws its own shuffle;
- `--loss mean_square` equals torch.nn.MSELoss, loss and gradients;
- `kiln train` of an image-shaped export trains the same from the .onnx
  file as from the graph file `kiln import` wrote.

Models: Linear stacks with ReLU, Tanh and Sigmoid, with and without bias,
with Flatten in front of an image-shaped input, exported at opsets 11, 13
and 17.

  torch_reference.py KILN_CLI PYTHON_MODULE_DIR
Exits 77 (skipped, with the reason) when torch, onnx or the module is missing.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper
except ImportError as e:
    print(f"skipped: {e} (Debian: python3-torch python3-onnx python3-numpy; scripts/setup.sh test installs them)")
    sys.exit(77)

KILN = sys.argv[1]
sys.path.insert(0, sys.argv[2])
try:
    import kiln
except ImportError as e:
    print(f"skipped: the kiln Python module is not built here ({e})")
    sys.exit(77)

ROWS = 8
RTOL = 1e-5


def models():
    """(name, module, input shape without the batch) for each case."""
    torch.manual_seed(0)
    nn = torch.nn
    return [
        ("relu_bias", nn.Sequential(nn.Linear(6, 9), nn.ReLU(), nn.Linear(9, 4)), (6,)),
        ("tanh_nobias", nn.Sequential(nn.Linear(6, 7, bias=False), nn.Tanh(), nn.Linear(7, 3, bias=False)), (6,)),
        ("sigmoid_mixed", nn.Sequential(nn.Linear(5, 8), nn.Sigmoid(), nn.Linear(8, 6, bias=False), nn.ReLU(),
                                        nn.Linear(6, 3)), (5,)),
        ("flatten_relu", nn.Sequential(nn.Flatten(), nn.Linear(16, 10), nn.ReLU(), nn.Linear(10, 5)), (1, 4, 4)),
    ]


def export(module, shape, opset, path):
    example = torch.zeros((ROWS,) + shape)
    torch.onnx.export(module, example, path, opset_version=opset, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})


def run(args, cwd):
    result = subprocess.run([KILN] + args, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"kiln {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def torch_tensor_of(module, onnx_value):
    """The PyTorch parameter an initializer holds, and whether it is stored
    transposed (PyTorch folds Linear(bias=False)'s transpose into a MatMul
    initializer)."""
    for p in module.parameters():
        w = p.detach().numpy()
        if w.shape == onnx_value.shape and np.array_equal(w, onnx_value):
            return p, False
        if w.ndim == 2 and w.T.shape == onnx_value.shape and np.array_equal(w.T, onnx_value):
            return p, True
    raise AssertionError("an initializer matches no PyTorch parameter")


def close(actual, expected, what):
    scale = max(float(np.max(np.abs(expected))), 1e-6)
    worst = float(np.max(np.abs(actual - expected))) / scale
    if not worst <= RTOL:
        raise AssertionError(f"{what}: differs from PyTorch by {worst:.3g} relative (tolerance {RTOL})")


def check_forward(name, module, shape, path, folder, rng):
    graph = os.path.join(folder, name + ".json")
    run(["import", path, "-o", graph, "--loss", "none", "--batch", str(ROWS)], folder)
    x = rng.normal(size=(ROWS,) + shape).astype(np.float32)
    plan = kiln.compile(kiln.load_graph(graph), optimizer=None)
    plan.feed("x", x)
    plan.run()
    expected = module(torch.from_numpy(x)).detach().numpy()
    close(plan.value(output_name(graph)), expected, f"{name}: forward")


def output_name(graph_path):
    """The node computing the model's output: with --loss none, the last one
    in the graph file (nodes are written in creation order)."""
    import json
    with open(graph_path) as f:
        return json.load(f)["nodes"][-1]["name"]


def check_gradients(name, module, shape, path, folder, rng):
    x = rng.normal(size=(ROWS,) + shape).astype(np.float32)
    classes = module(torch.from_numpy(x)).shape[1]
    y = rng.integers(0, classes, size=ROWS).astype(np.int64)
    np.save(os.path.join(folder, "x.npy"), x)
    np.save(os.path.join(folder, "y.npy"), y)
    out = os.path.join(folder, "grads-" + name)
    run(["grad", path, "--batch", str(ROWS), "--feed", "x=x.npy", "--feed", "y=y.npy", "--out", out], folder)

    module.zero_grad()
    loss = torch.nn.functional.cross_entropy(module(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    close(np.load(os.path.join(out, "loss.npy")), loss.detach().numpy(), f"{name}: loss")
    initializers = onnx.load(path).graph.initializer
    assert len(initializers) > 0
    for init in initializers:
        value = numpy_helper.to_array(init)
        param, transposed = torch_tensor_of(module, value)
        expected = param.grad.numpy().T if transposed else param.grad.numpy()
        file_name = kiln_name(init.name).replace("/", "__") + ".npy"
        close(np.load(os.path.join(out, "grad", file_name)), expected, f"{name}: gradient of {init.name}")


def kiln_name(onnx_name):
    """frontends/onnx/map_ops.hpp kiln_name: '/' leading dropped, other
    characters outside [A-Za-z0-9_./-] become '_'."""
    out = ""
    for c in onnx_name:
        if not out and c == "/":
            continue
        out += c if (c.isascii() and (c.isalnum() or c in "_-/.")) else "_"
    return out


def check_training(name, module, shape, folder, rng, steps=50, lr=0.1, rows=4):
    # Exported at a fixed batch (no dynamic axis) and loaded straight from
    # the .onnx file, as `kiln train model.onnx` does.
    path = os.path.join(folder, name + "_fixed.onnx")
    torch.onnx.export(module, torch.zeros((rows,) + shape), path, opset_version=int(name.rsplit("opset", 1)[1]),
                      input_names=["x"], output_names=["logits"])
    # Which parameter each initializer holds, while their values still agree.
    holds = {}
    by_param = {id(p): n for n, p in module.named_parameters()}
    for init in onnx.load(path).graph.initializer:
        param, transposed = torch_tensor_of(module, numpy_helper.to_array(init))
        holds[init.name] = (by_param[id(param)], transposed)
    plan = kiln.compile(kiln.load_graph(path), optimizer="sgd", lr=lr)
    assert plan.input("x").shape == (rows,) + shape
    reference = torch.optim.SGD(module.parameters(), lr=lr)
    classes = module(torch.zeros((rows,) + shape)).shape[1]
    for _ in range(steps):
        x = rng.normal(size=(rows,) + shape).astype(np.float32)
        y = rng.integers(0, classes, size=rows)
        plan.feed("x", x)
        plan.feed("y", y.astype(np.int32))
        plan.step()
        reference.zero_grad()
        torch.nn.functional.cross_entropy(module(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        reference.step()
    trained = dict(module.named_parameters())
    for onnx_name, (param_name, transposed) in holds.items():
        value = trained[param_name].detach().numpy()
        close(plan.param(kiln_name(onnx_name)), value.T if transposed else value,
              f"{name}: {onnx_name} after {steps} SGD steps")


def check_mean_square(folder, rng):
    """--loss mean_square: `kiln grad` equals torch.nn.MSELoss (the mean
    over all elements) and its gradients, against a target fed as `t`."""
    torch.manual_seed(2)
    module = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    path = os.path.join(folder, "regression.onnx")
    torch.onnx.export(module, torch.zeros(ROWS, 4), path, input_names=["x"], opset_version=13)
    x = rng.normal(size=(ROWS, 4)).astype(np.float32)
    t = rng.normal(size=(ROWS, 3)).astype(np.float32)
    np.save(os.path.join(folder, "rx.npy"), x)
    np.save(os.path.join(folder, "rt.npy"), t)
    out = os.path.join(folder, "grads-regression")
    run(["grad", path, "--loss", "mean_square", "--labels", "t", "--feed", "x=rx.npy", "--feed", "t=rt.npy",
         "--out", out], folder)
    module.zero_grad()
    loss = torch.nn.MSELoss()(module(torch.from_numpy(x)), torch.from_numpy(t))
    loss.backward()
    close(np.load(os.path.join(out, "loss.npy")), loss.detach().numpy(), "regression: mean_square loss")
    for name, param in module.named_parameters():
        close(np.load(os.path.join(out, "grad", name + ".npy")), param.grad.numpy(), f"regression: gradient of {name}")
    print(f"ok --loss mean_square: loss and gradients equal torch.nn.MSELoss's ({float(loss):.6f})")


def check_kiln_train(folder):
    """`kiln train` of an image-shaped export ([16, 1, 8, 8] through
    Flatten) on the embedded digits: the .onnx file and the graph file
    `kiln import` wrote train to the same final line, and they learn."""
    torch.manual_seed(1)
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                 torch.nn.Linear(32, 10))
    path = os.path.join(folder, "digits.onnx")
    torch.onnx.export(module, torch.zeros(16, 1, 8, 8), path, input_names=["x"], opset_version=13)
    run(["import", path, "-o", "digits.json"], folder)
    finals = []
    for model in ("digits.onnx", "digits.json"):
        out = run(["train", model, "--epochs", "2", "--threads", "1"], folder).stdout
        finals.append(next(line for line in out.splitlines() if line.startswith("final:")))
    assert finals[0] == finals[1], f"the .onnx file and its import train differently: {finals}"
    accuracy = float(finals[0].rsplit("test accuracy ", 1)[1])
    assert accuracy > 0.8, f"kiln train digits.onnx reached only {accuracy} test accuracy: {finals[0]}"
    print(f"ok kiln train digits.onnx == kiln train digits.json: {finals[0]}")


def main():
    rng = np.random.default_rng(5)
    checked = 0
    with tempfile.TemporaryDirectory() as folder:
        for opset in (11, 13, 17):
            for name, module, shape in models():
                case = f"{name}_opset{opset}"
                path = os.path.join(folder, case + ".onnx")
                export(module, shape, opset, path)
                check_forward(case, module, shape, path, folder, rng)
                check_gradients(case, module, shape, path, folder, rng)
                check_training(case, module, shape, folder, rng)
                checked += 1
                print(f"ok {case}: forward, loss and gradients, 50 SGD steps equal PyTorch's")
        check_mean_square(folder, rng)
        check_kiln_train(folder)
    print(f"{checked} exported models match PyTorch")


if __name__ == "__main__":
    main()
