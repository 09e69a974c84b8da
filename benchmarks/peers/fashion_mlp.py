#!/usr/bin/python3
"""The seed MLP on Fashion-MNIST, kiln and PyTorch side by side, in one run.

Settings (issue 5): 784-100-200-10 ReLU, weights N(0, 0.01^2), biases zero
(the built-in mlp model's init),
SGD lr 0.1, batch 32, shuffled each epoch, pixels scaled by 1/255, the last
10,000 training images held out for validation, 25 epochs. Prints per-epoch
validation/test accuracy of both and their wall times as a markdown table.

  /usr/bin/python3 benchmarks/peers/fashion_mlp.py [--kiln build/kiln] [--epochs 25] [--threads 1]
"""
import argparse
import csv
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir):
    def pair(prefix):
        x = read_idx(os.path.join(data_dir, prefix + "-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(data_dir, prefix + "-labels-idx1-ubyte.gz"))
        return x.reshape(len(x), -1).astype(np.float32) / 255.0, y.astype(np.int64)
    x_train, y_train = pair("train")
    x_test, y_test = pair("t10k")
    return (x_train[:-10000], y_train[:-10000]), (x_train[-10000:], y_train[-10000:]), (x_test, y_test)


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def train_torch(epochs, threads, seed, data_dir):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    (xt, yt), (xv, yv), (xs, ys) = [tuple(map(torch.from_numpy, p)) for p in load(data_dir)]
    model = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 200),
                                torch.nn.ReLU(), torch.nn.Linear(200, 10))
    for layer in model:
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.normal_(layer.weight, 0.0, 0.01)
            torch.nn.init.zeros_(layer.bias)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    rows = []
    start = time.perf_counter()
    n = len(xt)
    for epoch in range(epochs):
        order = torch.randperm(n)
        total, steps = 0.0, 0
        for i in range(0, n - 31, 32):  # whole batches only, as kiln's default
            idx = order[i:i + 32]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item()
            steps += 1
        rows.append({"epoch": epoch, "loss": total / steps, "val_accuracy": accuracy(model, xv, yv),
                     "test_accuracy": accuracy(model, xs, ys), "seconds": time.perf_counter() - start})
    return rows


def train_kiln(kiln, epochs, threads, seed, data_dir):
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "log.csv")
        cmd = [kiln, "train", "mlp", "--data", "fashion-mnist:" + data_dir, "--scale", "1/255",
               "--val-split", "10000", "--epochs", str(epochs), "--batch", "32", "--lr", "0.1",
               "--optimizer", "sgd", "--seed", str(seed), "--threads", str(threads),
               "--eval-every", "1", "--log", log]  # every epoch, as PyTorch's loop below
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        with open(log) as f:
            rows = [{k: float(v) if v else None for k, v in r.items()} for r in csv.DictReader(f)]
    return rows, wall


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kiln", default=os.path.join(here, "..", "..", "build", "kiln"))
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=DATA_DIR)
    ap.add_argument("--json", help="also write both runs' rows to this file")
    args = ap.parse_args()

    kiln_rows, kiln_wall = train_kiln(args.kiln, args.epochs, args.threads, args.seed, args.data)
    torch_start = time.perf_counter()
    torch_rows = train_torch(args.epochs, args.threads, args.seed, args.data)
    torch_wall = time.perf_counter() - torch_start

    cpu = platform.processor() or "?"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"Fashion-MNIST MLP 784-100-200-10, SGD lr 0.1, batch 32, {args.epochs} epochs, "
          f"{args.threads} thread(s), CPU: {cpu}; torch {torch.__version__}\n")
    print("| epoch | kiln loss | kiln val | kiln test | torch loss | torch val | torch test |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for k, t in zip(kiln_rows, torch_rows):
        print(f"| {int(k['epoch'])} | {k['loss']:.4f} | {k['val_accuracy']:.4f} | {k['test_accuracy']:.4f} "
              f"| {t['loss']:.4f} | {t['val_accuracy']:.4f} | {t['test_accuracy']:.4f} |")
    print(f"\nwall time: kiln {kiln_wall:.1f} s (whole process, evaluation included), "
          f"PyTorch {torch_wall:.1f} s (training and evaluation)")
    gap = abs(kiln_rows[-1]["test_accuracy"] - torch_rows[-1]["test_accuracy"]) * 100
    print(f"final test accuracy: kiln {kiln_rows[-1]['test_accuracy']:.4f}, PyTorch "
          f"{torch_rows[-1]['test_accuracy']:.4f} ({gap:.2f} points apart)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"kiln": kiln_rows, "torch": torch_rows, "kiln_wall": kiln_wall, "torch_wall": torch_wall}, f)
    return 0 if gap <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
