#!/usr/bin/python3
"""kiln, PyTorch eager and NumPy side by side: one training step (forward,
backward, SGD update) of the same models at the same shapes and thread
counts, timed in one run. Prints a markdown table of median step times and
the ratios peer/kiln (above 1: kiln is faster).

    /usr/bin/python3 benchmarks/peers/compare.py [--kiln build/kiln] [--threads 1,2]
                                                 [--steps 200] [--warmup 20] [--only NAME,...]

kiln is timed through `kiln bench --json`; PyTorch as users write it
(nn.Sequential of Linear/ReLU, CrossEntropyLoss, optim.SGD,
zero_grad(set_to_none=True)); NumPy as the cs231n/seed code writes it
(forward, softmax, backward by hand, SGD in place). All in float32 with
the same learning rate, the spiral net with the same L2 term. Each
(peer, thread count) runs in its own process so that the BLAS thread
count is set before any library loads (OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS) and torch.set_num_threads agrees.

The row "sgemm 1024^3" is OpenBLAS's own speed at a square 1024 product,
through NumPy (Debian's NumPy calls the same libopenblas kiln links),
the reference of issue 6's 85% target for the 1024-wide MLP.

"kiln from Python" is the same compiled step driven from a Python loop
through the kiln module (build/python, next to the kiln binary): Plan.step()
per iteration, the batch written once through Plan.input/Plan.labels, so the
column minus kiln's is what the Python call costs. "—" when the module is
not built.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# name: (kiln bench arguments, layer sizes, batch, L2 factor, what it is)
WORKLOADS = {
    "mlp-32": (["mlp", "--batch", "32"], [784, 100, 200, 10], 32, 0.0, "MLP 784-100-200-10, batch 32"),
    "mlp-256": (["mlp", "--batch", "256"], [784, 100, 200, 10], 256, 0.0, "MLP 784-100-200-10, batch 256"),
    "logreg": (["logreg"], [64, 10], 1257, 0.0, "logistic regression 64-10, 1,257 rows"),
    "spiral": (["spiral-net"], [2, 100, 3], 300, 1e-3, "spiral 2-100-3, 300 rows, L2 1e-3"),
    "mlp-1024": (["mlp", "--hidden", "1024,1024", "--batch", "1024"], [784, 1024, 1024, 10], 1024, 0.0,
                 "MLP 784-1024-1024-10, batch 1024"),
}
LR = 0.01
# A step of the 1024-wide MLP takes ~100x longer than the others: fewer steps
# give as stable a median in a reasonable time.
STEP_SCALE = {"mlp-1024": 0.2}


def steps_for(name, steps, warmup):
    scale = STEP_SCALE.get(name, 1.0)
    return max(10, int(steps * scale)), max(2, int(warmup * scale))


def data(sizes, batch, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights.append(((rng.standard_normal((fan_in, fan_out)) * 0.01).astype(np.float32),
                        np.zeros(fan_out, dtype=np.float32)))
    return x, y, weights


def time_steps(step, steps, warmup):
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def numpy_step_fn(sizes, batch, reg):
    """The seed code's step: forward, softmax loss, backward by hand, SGD."""
    import numpy as np
    x, y, params = data(sizes, batch)
    params = [[w, b] for w, b in params]
    rows = np.arange(batch)

    def step():
        acts = [x]
        h = x
        for i, (w, b) in enumerate(params):
            h = np.dot(h, w) + b
            if i + 1 < len(params):
                h = np.maximum(0, h)
            acts.append(h)
        scores = h - np.max(h, axis=1, keepdims=True)
        exp_scores = np.exp(scores)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        loss = np.sum(-np.log(probs[rows, y])) / batch
        loss += sum(0.5 * reg * np.sum(w * w) for w, _ in params)
        dscores = probs
        dscores[rows, y] -= 1
        dscores /= batch
        grads = []
        d = dscores
        for i in reversed(range(len(params))):
            w, b = params[i]
            dw = np.dot(acts[i].T, d)
            db = np.sum(d, axis=0)
            if reg:
                dw += reg * w
            grads.append((dw, db))
            if i > 0:
                d = np.dot(d, w.T)
                d[acts[i] <= 0] = 0
        for (w, b), (dw, db) in zip(params, reversed(grads)):
            w += -LR * dw
            b += -LR * db
        return loss

    return step


def torch_step_fn(sizes, batch, reg):
    import torch
    x_np, y_np, weights = data(sizes, batch)
    layers = []
    for i, (w, b) in enumerate(weights):
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i + 1 < len(weights):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    x = torch.from_numpy(x_np)
    y = torch.from_numpy(y_np)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        if reg:
            loss = loss + 0.5 * reg * sum((m.weight * m.weight).sum() for m in linears)
        loss.backward()
        optimizer.step()
        return loss

    return step


def kiln_bench_args(name):
    """(model, batch, hidden) from the kiln bench arguments of a workload."""
    args = WORKLOADS[name][0]
    options = dict(zip(args[1::2], args[2::2]))
    hidden = [int(h) for h in options["--hidden"].split(",")] if "--hidden" in options else None
    batch = int(options["--batch"]) if "--batch" in options else None
    return args[0], batch, hidden


def kiln_python_step_fn(name, threads):
    """The plan kiln bench times, compiled and stepped through the Python module."""
    import kiln
    model, batch, hidden = kiln_bench_args(name)
    plan = kiln.compile(kiln.build_model(model, batch=batch, hidden=hidden), lr=LR, threads=threads)
    graph = plan.graph
    rows, features = graph.node("x")["shape"]
    classes = WORKLOADS[name][1][-1]
    x, y, _ = data([features, classes], rows)
    plan.input("x")[:] = x
    plan.labels("y")[:] = y
    return plan.step


def sgemm_gflops(n=1024, reps=20):
    import numpy as np
    a = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    b = np.random.default_rng(2).standard_normal((n, n)).astype(np.float32)
    seconds = time_steps(lambda: np.dot(a, b), reps, 3) / 1e6
    return 2.0 * n ** 3 / seconds / 1e9


def worker(peer, threads, names, steps, warmup):
    """Runs in a child process whose BLAS thread count was set by the parent."""
    results = {}
    if peer == "torch":
        import torch
        torch.set_num_threads(threads)
        for name in names:
            _, sizes, batch, reg, _ = WORKLOADS[name]
            results[name] = time_steps(torch_step_fn(sizes, batch, reg), *steps_for(name, steps, warmup))
        results["_version"] = torch.__version__
    elif peer == "kiln-python":
        for name in names:
            results[name] = time_steps(kiln_python_step_fn(name, threads), *steps_for(name, steps, warmup))
    else:
        import numpy
        for name in names:
            _, sizes, batch, reg, _ = WORKLOADS[name]
            results[name] = time_steps(numpy_step_fn(sizes, batch, reg), *steps_for(name, steps, warmup))
        results["_sgemm_gflops"] = sgemm_gflops()
        results["_version"] = numpy.__version__
    print(json.dumps(results))


def run_worker(peer, threads, names, steps, warmup, extra_env=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    env.update(extra_env or {})
    args = [sys.executable, os.path.abspath(__file__), "--worker", peer, "--threads", str(threads),
            "--only", ",".join(names), "--steps", str(steps), "--warmup", str(warmup)]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"compare.py: the {peer} worker at {threads} thread(s) failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_kiln_python(kiln, threads, names, steps, warmup):
    """The kiln-python worker with the module built beside the kiln binary; {} when it is not built."""
    module_dir = os.path.join(os.path.dirname(os.path.abspath(kiln)), "python")
    if not os.path.isdir(os.path.join(module_dir, "kiln")):
        return {}
    path = os.pathsep.join(p for p in (module_dir, os.environ.get("PYTHONPATH", "")) if p)
    return run_worker("kiln-python", threads, names, steps, warmup, {"PYTHONPATH": path})


def run_kiln(kiln, name, threads, steps, warmup):
    steps, warmup = steps_for(name, steps, warmup)
    args = [kiln, "bench", *WORKLOADS[name][0], "--threads", str(threads), "--steps", str(steps),
            "--warmup", str(warmup), "--lr", str(LR), "--json"]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"compare.py: {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--kiln", default=os.path.join(here, "..", "..", "build", "kiln"),
                        help="the kiln binary (default: build/kiln)")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--steps", type=int, default=200, help="timed steps per workload")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="workloads: " + ", ".join(WORKLOADS))
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--worker", choices=["torch", "numpy", "kiln-python"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; expected some of {', '.join(WORKLOADS)}")
    threads = [int(t) for t in args.threads.split(",") if t]
    if args.worker:
        worker(args.worker, threads[0], names, args.steps, args.warmup)
        return
    if not os.access(args.kiln, os.X_OK):
        sys.exit(f"compare.py: no kiln binary at {args.kiln}: build it (make compare does) or pass --kiln")

    load_before = os.getloadavg()[0]
    rows, peers = [], {}
    for t in threads:
        torch_res = run_worker("torch", t, names, args.steps, args.warmup)
        numpy_res = run_worker("numpy", t, names, args.steps, args.warmup)
        python_res = run_kiln_python(args.kiln, t, names, args.steps, args.warmup)
        peers[t] = {"torch": torch_res, "numpy": numpy_res}
        for name in names:
            k = run_kiln(args.kiln, name, t, args.steps, args.warmup)
            rows.append({"workload": name, "threads": t, "kiln_us": k["step_us"]["median"],
                         "floor_us": k["gemm_floor_kiln"]["median_us"],
                         "cblas_floor_us": k["gemm_floor"]["median_us"], "kiln_gflops": k["gflops"],
                         "compile_ms": k["compile_ms"]["median"],
                         "torch_us": torch_res[name], "numpy_us": numpy_res[name],
                         "python_us": python_res.get(name)})
    load_after = os.getloadavg()[0]

    any_peer = peers[threads[0]]
    print(f"CPU: {cpu_model()}; load average {load_before:.2f} before, {load_after:.2f} after; "
          f"PyTorch {any_peer['torch']['_version']}, NumPy {any_peer['numpy']['_version']}; "
          f"median of {args.steps} steps after {args.warmup} warm-up (a fifth of that for the 1024-wide MLP); "
          f"float32, SGD lr {LR}\n")
    print("| workload | threads | kiln µs | kiln from Python µs | step/floor (kiln GEMMs) | step/floor (CBLAS) "
          "| kiln GFLOP/s | PyTorch µs | NumPy µs | PyTorch/kiln | NumPy/kiln |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        python = "—" if r["python_us"] is None else f"{r['python_us']:.1f} ({r['python_us'] / r['kiln_us']:.2f}×)"
        print(f"| {WORKLOADS[r['workload']][4]} | {r['threads']} | {r['kiln_us']:.1f} | {python} "
              f"| {r['kiln_us'] / r['floor_us']:.2f} | {r['kiln_us'] / r['cblas_floor_us']:.2f} "
              f"| {r['kiln_gflops']:.1f} | {r['torch_us']:.1f} "
              f"| {r['numpy_us']:.1f} | {r['torch_us'] / r['kiln_us']:.2f}× | {r['numpy_us'] / r['kiln_us']:.2f}× |")
    print()
    print("step/floor: kiln's step over the plan's GEMMs alone, back to back, through kiln's own GEMM kernels "
          "(the backend each got) and through CBLAS.")
    for t in threads:
        sgemm = peers[t]["numpy"]["_sgemm_gflops"]
        line = f"OpenBLAS sgemm 1024×1024×1024 through NumPy, {t} thread(s): {sgemm:.1f} GFLOP/s"
        big = [r for r in rows if r["workload"] == "mlp-1024" and r["threads"] == t]
        if big:
            line += f"; kiln's 1024-wide MLP step reaches {big[0]['kiln_gflops']:.1f} ({100 * big[0]['kiln_gflops'] / sgemm:.0f}%)"
        print(line)
    compile_ms = {r["workload"]: r["compile_ms"] for r in rows}
    print("kiln compile time (ms, median of 5): " + ", ".join(f"{n} {ms:.2f}" for n, ms in compile_ms.items()))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"cpu": cpu_model(), "load": [load_before, load_after], "rows": rows,
                       "sgemm_gflops": {t: peers[t]["numpy"]["_sgemm_gflops"] for t in threads}}, out, indent=2)


if __name__ == "__main__":
    main()
