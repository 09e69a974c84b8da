#!/usr/bin/python3
"""Cross-checks kiln's .npy reader and writer against NumPy itself.

usage: npy_numpy_check.py KILN_TESTS_BINARY WORK_DIR

NumPy writes arrays into WORK_DIR/from_numpy; the hidden Catch test
"[npy-numpy]" in tests/runtime/npy_numpy_test.cpp reads them (checking every
value against the formulas below) and writes WORK_DIR/from_kiln, which NumPy
then loads and checks. Exits 77 (CTest's SKIP_RETURN_CODE) without NumPy.
"""
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed for", sys.executable)
    sys.exit(77)


# The formulas are repeated in npy_numpy_test.cpp; both sides compute them
# exactly (small integers and divisions by 3 or 4 are correctly rounded).
def f4_array():
    return (np.arange(15, dtype=np.float32).reshape(3, 5) - 7) * np.float32(0.25)


def f8_array():
    return np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 3.0


def i4_array():
    return np.arange(6, dtype=np.int32) * 1000 - 5000


def i8_array():
    return np.array([0, 5, 2147483647, -2147483648], dtype=np.int64)


def write_numpy_files(d):
    np.save(os.path.join(d, "f4.npy"), f4_array())
    np.save(os.path.join(d, "f8.npy"), f8_array())
    np.save(os.path.join(d, "i4.npy"), i4_array())
    np.save(os.path.join(d, "i8.npy"), i8_array())
    np.save(os.path.join(d, "scalar.npy"), np.array(2.5))
    for version in [(2, 0), (3, 0)]:
        with open(os.path.join(d, "f4_v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, f4_array(), version=version)
    # A transposed view is Fortran-contiguous: NumPy writes fortran_order True.
    np.save(os.path.join(d, "fortran.npy"), f4_array().T)


def check_kiln_files(d):
    expected = {
        "f4.npy": f4_array(),
        "f8.npy": f8_array(),
        "i4.npy": i4_array(),
        "scalar.npy": np.array(-0.125),
    }
    failures = []
    for name, want in expected.items():
        path = os.path.join(d, name)
        got = np.load(path, allow_pickle=False)
        if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
            failures.append("%s: expected %s %s %r, found %s %s %r"
                            % (path, want.dtype, want.shape, want, got.dtype, got.shape, got))
    return failures


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    kiln_tests, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    from_numpy = os.path.join(work, "from_numpy")
    from_kiln = os.path.join(work, "from_kiln")
    os.makedirs(from_numpy)
    os.makedirs(from_kiln)
    write_numpy_files(from_numpy)

    env = dict(os.environ, KILN_NPY_DIR=work)
    run = subprocess.run([kiln_tests, "[npy-numpy]"], env=env)
    if run.returncode != 0:
        print("FAIL: kiln could not read NumPy's files (see the Catch output above)")
        return 1

    failures = check_kiln_files(from_kiln)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("OK: kiln and NumPy %s agree on every file" % np.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
