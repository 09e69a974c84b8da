#!/usr/bin/python3
"""Issue 16's done-when, in one run: PyTorch's Fashion-MNIST MLP exported
with torch.onnx.export, trained by `kiln train mlp.onnx` and by PyTorch from
the same exported weights with the same recipe.

The model and recipe are benchmarks/peers/fashion_mlp.py's: 784-100-200-10
ReLU, weights N(0, 0.01^2), biases zero, SGD lr 0.1, batch 32, shuffled each
epoch, pixels scaled by 1/255, the last 10,000 training images held out for
validation. Both runs start from the weights in mlp.onnx; only the shuffle
order differs (each framework draws its own). Prints both runs' test
accuracy per epoch and exits 1 when the final ones are more than 1 point
apart.

  /usr/bin/python3 benchmarks/peers/onnx_fashion.py [--kiln build/kiln] [--epochs 5] [--keep DIR]
"""
import argparse
import csv
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mlp import DATA_DIR, accuracy, load  # noqa: E402


def build_and_export(path, seed):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 200),
                                torch.nn.ReLU(), torch.nn.Linear(200, 10))
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.normal_(layer.weight, 0.0, 0.01)
            torch.nn.init.zeros_(layer.bias)
    torch.onnx.export(model, torch.zeros(32, 784), path, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    return model


def train_torch(model, epochs, data_dir):
    (xt, yt), (xv, yv), (xs, ys) = [tuple(map(torch.from_numpy, p)) for p in load(data_dir)]
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    rows = []
    n = len(xt)
    for epoch in range(epochs):  # numbered from 0, as kiln's log
        order = torch.randperm(n)
        for i in range(0, n - 31, 32):  # whole batches only, as kiln's default
            idx = order[i:i + 32]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
        rows.append({"epoch": epoch, "val_accuracy": accuracy(model, xv, yv), "test_accuracy": accuracy(model, xs, ys)})
    return rows


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", default=os.path.join(here, "..", "..", "build", "kiln"))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default=DATA_DIR)
    ap.add_argument("--keep", help="write mlp.onnx and kiln's log here instead of a temporary folder")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or tmp
        os.makedirs(folder, exist_ok=True)
        onnx_path = os.path.join(folder, "mlp.onnx")
        model = build_and_export(onnx_path, args.seed)
        log = os.path.join(folder, "kiln-log.csv")
        # Fashion-MNIST's recipe (batch 32, SGD lr 0.1, pixels / 255, the last
        # 10,000 rows held out) is what kiln train gives any model on that data.
        cmd = [args.kiln, "train", onnx_path, "--data", "fashion-mnist:" + args.data, "--epochs", str(args.epochs),
               "--seed", str(args.seed), "--threads", str(args.threads), "--log", log]
        print("$ " + " ".join(cmd))
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        kiln_wall = time.perf_counter() - start
        with open(log) as f:
            kiln_rows = [r for r in csv.DictReader(f) if r["test_accuracy"]]
        start = time.perf_counter()
        torch_rows = train_torch(model, args.epochs, args.data)
        torch_wall = time.perf_counter() - start

    cpu = platform.processor() or "?"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"\n{datetime.date.today()}, CPU: {cpu}, {args.threads} thread(s), torch {torch.__version__}, "
          f"load {os.getloadavg()[0]:.2f}")
    print(f"kiln {kiln_wall:.1f} s, PyTorch {torch_wall:.1f} s")
    for r in kiln_rows:
        print(f"kiln epoch {int(r['epoch'])}: test accuracy {float(r['test_accuracy']):.4f}")
    for r in torch_rows:
        print(f"PyTorch epoch {r['epoch']}: test accuracy {r['test_accuracy']:.4f}")
    k, t = float(kiln_rows[-1]["test_accuracy"]), torch_rows[-1]["test_accuracy"]
    print(f"final test accuracy: kiln {k:.4f}, PyTorch {t:.4f} ({abs(k - t) * 100:.2f} points apart)")
    return 0 if abs(k - t) * 100 <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
