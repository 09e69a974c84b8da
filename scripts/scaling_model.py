#!/usr/bin/env python3
"""The data-parallel scaling model of docs/scaling.md, from measured figures.

Reads `kiln bench MODEL --batch b --threads 1 --json` outputs (one process,
several batch sizes b) and prints, for a global batch split over N ranks,
the modelled step: the compute of a b = B/N-row step (as measured at b
rows, or linearly between the two nearest measured batch sizes) plus a ring
allreduce of every gradient,

    t_allreduce(N) = 2 (N-1)/N * bytes / bandwidth + 2 (N-1) * latency

with no overlap (an upper bound: kiln starts the large sums during the
backward pass) and with full overlap (max of the two: a lower bound).

    python3 scripts/scaling_model.py --global-batch 2048 bench-b*.json
"""
import argparse
import json
import sys

LINKS = [  # name, bytes/s, one-way latency in seconds (assumed, not measured here)
    ("10 Gb/s Ethernet (TCP)", 10e9 / 8, 25e-6),
    ("100 Gb/s InfiniBand/RoCE (RDMA)", 100e9 / 8, 2e-6),
]
RANKS = [1, 2, 4, 8, 16, 32, 64]


def compute_us(points, batch):
    """The step time measured at `batch` rows, else linear between the
    nearest measured batch sizes (beyond them: along the last segment)."""
    points = sorted(points)
    for (b0, t0), (b1, t1) in zip(points, points[1:]):
        if batch <= b1 or (b1, t1) == points[-1]:
            return t0 + (t1 - t0) * (batch - b0) / (b1 - b0)
    raise AssertionError


def allreduce_us(ranks, nbytes, bandwidth, latency):
    if ranks == 1:
        return 0.0
    return 1e6 * (2 * (ranks - 1) / ranks * nbytes / bandwidth + 2 * (ranks - 1) * latency)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", nargs="+", help="kiln bench --json outputs of one model at several batch sizes")
    parser.add_argument("--global-batch", type=int, required=True)
    parser.add_argument("--bytes", type=int, required=True, help="gradient bytes a step sums (params x 4 for f32)")
    parser.add_argument("--statistic", choices=["min", "median"], default="median",
                        help="which step time of each run (min: the least disturbed by other load)")
    args = parser.parse_args()
    runs = [json.load(open(p)) for p in args.bench]
    model = {r["model"] for r in runs}
    if len(model) != 1:
        sys.exit(f"scaling_model.py: the files are of several models: {sorted(model)}")
    points = [(r["batch"], r["step_us"][args.statistic]) for r in runs]
    if len(points) < 2:
        sys.exit("scaling_model.py: need runs at two batch sizes or more")
    print(f"{model.pop()}, global batch {args.global_batch}, {args.bytes} gradient bytes a step; "
          f"compute: the {args.statistic} step measured at batches {sorted(b for b, _ in points)}\n")
    for name, bandwidth, latency in LINKS:
        print(f"{name}: {bandwidth * 8 / 1e9:.0f} Gb/s, {latency * 1e6:.0f} us latency\n")
        print("| ranks | rows/rank | compute us | allreduce us | step us (no overlap) | speed-up | "
              "step us (full overlap) | speed-up |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        one = compute_us(points, args.global_batch)
        for n in RANKS:
            if args.global_batch % n:
                continue
            compute = compute_us(points, args.global_batch // n)
            a = allreduce_us(n, args.bytes, bandwidth, latency)
            serial, overlapped = compute + a, max(compute, a)
            print(f"| {n} | {args.global_batch // n} | {compute:.0f} | {a:.0f} | {serial:.0f} | {one / serial:.1f} | "
                  f"{overlapped:.0f} | {one / overlapped:.1f} |")
        print()


if __name__ == "__main__":
    main()
