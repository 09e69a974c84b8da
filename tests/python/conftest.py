"""Shared pieces of the kiln Python tests; run by tests/python.cmake with
PYTHONPATH=build/python and KILN_CLI=build/kiln."""
import os

import numpy as np
import pytest

import kiln


@pytest.fixture(scope="session")
def kiln_cli():
    path = os.environ.get("KILN_CLI", "")
    if not os.path.exists(path):
        pytest.skip("KILN_CLI does not name the built kiln command")
    return path


@pytest.fixture(scope="session")
def spiral():
    return kiln.load_dataset("spiral")["train"]


def spiral_builder(dtype="f32", rows=300):
    """cs231n's 2-100-3 spiral net with its L2 penalty, written with the Builder."""
    g = kiln.Builder()
    x = g.input("x", (rows, 2), dtype)
    y = g.labels("y", rows, 3)
    with g.scope("fc1"):
        w1 = g.param("W", (2, 100), kiln.Init.normal(0.01), dtype)
        h = g.relu(g.matmul(x, w1) + g.param("b", (100,), kiln.Init.zeros(), dtype), "relu")
    with g.scope("fc2"):
        w2 = g.param("W", (100, 3), kiln.Init.normal(0.01), dtype)
        scores = g.matmul(h, w2) + g.param("b", (3,), kiln.Init.zeros(), dtype)
    data_loss = g.softmax_cross_entropy(scores, y, "data_loss")
    penalty = g.scale(g.add(g.l2(w1), g.l2(w2)), 1e-3, "reg_loss")
    g.set_loss(g.add(data_loss, penalty, "loss"))
    return g


def numpy_scores(params, x):
    h = np.maximum(x @ params["fc1/W"] + params["fc1/b"], 0)
    return h @ params["fc2/W"] + params["fc2/b"]
