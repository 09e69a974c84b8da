"""Checkpoints saved from Python are the ones kiln train and kiln eval use."""
import re
import subprocess

import numpy as np

import kiln


def train_logreg(steps):
    data = kiln.load_dataset("digits")
    x, y = data["train"]
    plan = kiln.compile(kiln.build_model("logreg"), lr=0.01)
    plan.input("x")[:] = x
    plan.labels("y")[:] = y
    losses = [plan.step() for _ in range(steps)]
    return plan, data, losses


def test_checkpoint_from_python_scores_the_same_in_kiln_eval(kiln_cli, tmp_path):
    plan, data, losses = train_logreg(301)
    assert abs(losses[0] - np.log(10)) < 1e-6  # zero weights: a uniform guess over 10 digits
    path = str(tmp_path / "logreg.safetensors")
    plan.save(path, {"model": "logreg"})
    out = subprocess.run([kiln_cli, "eval", "--load", path], capture_output=True, text=True, check=True).stdout
    correct, rows = map(int, re.search(r"accuracy [0-9.]+ \((\d+) of (\d+)\)", out).groups())
    xt, yt = data["test"]
    p = plan.params()
    predicted = (xt @ p["fc1/W"] + p["fc1/b"]).argmax(axis=1)
    assert rows == len(yt) == 540
    assert correct == int((predicted == yt).sum())
    assert correct / rows > 0.95


def test_save_and_load_round_trip(tmp_path):
    plan, _, _ = train_logreg(20)
    path = str(tmp_path / "a.safetensors")
    plan.save(path)
    other = kiln.compile(kiln.build_model("logreg"), lr=0.01)
    other.load(path)
    for name, value in plan.params().items():
        assert np.array_equal(other.param(name), value)


def test_kiln_train_checkpoint_loads_in_python(kiln_cli, tmp_path):
    path = str(tmp_path / "cli.safetensors")
    subprocess.run([kiln_cli, "train", "logreg", "--epochs", "3", "--save", path], capture_output=True, check=True)
    plan = kiln.compile(kiln.build_model("logreg"), lr=0.01)
    plan.load(path)
    assert np.abs(plan.param("fc1/W")).sum() > 0
