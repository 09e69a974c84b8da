"""kiln from Python: declare a graph, compile it into a Plan, train it on NumPy arrays.

    import kiln, numpy as np
    g = kiln.Builder()
    x = g.input("x", (300, 2))
    y = g.labels("y", 300, 3)
    h = g.relu(kiln.dense(g, x, 100, "fc1"))
    g.set_loss(g.softmax_cross_entropy(kiln.dense(g, h, 3, "fc2"), y, "loss"))
    plan = kiln.compile(g.graph(), optimizer="sgd", lr=1.0)
    plan.input("x")[:] = points          # zero-copy: the plan's own buffer
    plan.labels("y")[:] = classes
    loss = plan.step()

Errors from kiln are ValueError (bad input), RuntimeError (a non-finite loss)
or MemoryError (a plan over its memory limit), with kiln's one-line message.
"""
import sys

try:
    import numpy  # noqa: F401  (the module's arrays are NumPy arrays)
except ImportError as e:
    raise ImportError(f"kiln needs NumPy, which {sys.executable} does not have: run Debian's /usr/bin/python3 "
                      "(apt-get install python3-numpy), the interpreter kiln was built for") from e

from ._kiln import (Builder, Graph, Init, Plan, Value, build_model, compile, dense, load_dataset, load_graph,
                    model_names, op_names, parse_graph, set_threads, threads)

__all__ = ["Builder", "Graph", "Init", "Plan", "Value", "build_model", "compile", "dense", "load_dataset",
           "load_graph", "model_names", "op_names", "parse_graph", "set_threads", "threads"]
