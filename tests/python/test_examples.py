"""The Python examples train the seed models to the seed texts' accuracy."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python"


@pytest.mark.parametrize("script, what, at_least", [
    ("spiral.py", "training accuracy", 0.97),
    ("moons.py", "training accuracy", 0.95),
    ("digits_logreg.py", "test accuracy", 0.95),
    ("numpy_arrays.py", "test accuracy", 0.90),
])
def test_example_reaches_its_accuracy(script, what, at_least):
    out = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, check=True,
                         env=dict(os.environ), timeout=120).stdout
    accuracy = float(re.search(what + r" ([0-9.]+)", out).group(1))
    assert accuracy >= at_least, out
