#!/usr/bin/python3
"""Hostile and unsupported ONNX files, built with the onnx package: each must
make `kiln import` exit 2 with one line on stderr naming the culprit, and
write nothing (no graph file, no safetensors, no temporary).

  hostile_models.py KILN_CLI
Exits 77 (skipped, with the reason) when the onnx package is missing.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:
    print(f"skipped: {e} (Debian: python3-onnx python3-numpy; scripts/setup.sh test installs them)")
    sys.exit(77)

KILN = sys.argv[1]


def model(nodes, initializers, opset=13, inputs=None, outputs=None):
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])]
    outputs = outputs or [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 2])]
    graph = helper.make_graph(nodes, "hostile", inputs, outputs, initializer=initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def weight(name="w", shape=(2, 3)):
    return numpy_helper.from_array(np.ones(shape, dtype=np.float32), name)


def good():
    return model([helper.make_node("Gemm", ["x", "w"], ["out"], name="fc", transB=1)], [weight()])


def save(m, path):
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def cases(folder):
    """(name, bytes of the .onnx file, texts the error line must contain)."""
    out = []
    intact = good().SerializeToString()
    out.append(("truncated", intact[: len(intact) * 2 // 3], ["does not parse"]))

    m = good()
    m.graph.initializer[0].raw_data = np.ones(5, dtype=np.float32).tobytes()  # dims [2, 3] need 24 bytes
    out.append(("wrong_dims", m.SerializeToString(), ["initializer 'w'", "raw_data holds 20 bytes", "need 24"]))

    m = good()
    del m.graph.initializer[0].float_data[:]
    m.graph.initializer[0].ClearField("raw_data")
    m.graph.initializer[0].dims[:] = [1000000, 1000000]  # 10^12 elements, no data at all
    out.append(("huge_claim", m.SerializeToString(), ["initializer 'w'", "[1000000, 1000000]", "elements"]))

    secret = os.path.join(os.path.dirname(folder), "outside.bin")
    with open(secret, "wb") as f:
        f.write(np.ones(6, dtype=np.float32).tobytes())
    m = good()
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../outside.bin"), ("offset", "0"), ("length", "24")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    out.append(("external_outside", m.SerializeToString(), ["initializer 'w'", "'../outside.bin'", "outside"]))

    m = good()
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    entry = w.external_data.add()
    entry.key, entry.value = "location", "/etc/passwd"
    out.append(("external_absolute", m.SerializeToString(), ["initializer 'w'", "absolute"]))

    m = model([helper.make_node("Relu", ["b"], ["a"], name="first"),
               helper.make_node("Relu", ["a"], ["b"], name="second"),
               helper.make_node("Gemm", ["b", "w"], ["out"], name="fc", transB=1)], [weight()])
    out.append(("cycle", m.SerializeToString(), ["cycle", "ONNX node '"]))

    m = model([helper.make_node("Gemm", ["nowhere", "w"], ["out"], name="fc", transB=1)], [weight()])
    out.append(("dangling", m.SerializeToString(), ["ONNX node 'fc' (Gemm)", "'nowhere'"]))

    m = model([helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1),
               helper.make_node("Conv", ["h"], ["out"], name="conv1")], [weight()])
    out.append(("unsupported_op", m.SerializeToString(),
                ["ONNX node 'conv1' (Conv)", "opset 13", "not supported", "Gemm", "Reshape", "LogSoftmax"]))

    m = good()
    m.graph.initializer[0].CopyFrom(numpy_helper.from_array(np.ones((2, 3), dtype=np.float64), "w"))
    out.append(("double_initializer", m.SerializeToString(), ["initializer 'w'", "DOUBLE", "FLOAT"]))

    m = model([helper.make_node("Gemm", ["x", "w"], ["out"], name="fc", transB=1)], [weight()], opset=18)
    out.append(("opset_18", m.SerializeToString(), ["opset 18", "9 to 17"]))

    m = model([helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1),
               helper.make_node("Softmax", ["h"], ["out"], name="sm", axis=0)], [weight()])
    out.append(("softmax_axis_0", m.SerializeToString(), ["ONNX node 'sm' (Softmax)", "last axis"]))

    m = model([helper.make_node("Add", ["x", "v"], ["out"], name="odd_add")],
              [numpy_helper.from_array(np.ones((2, 1), dtype=np.float32), "v")],
              inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
              outputs=[helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 3])])
    out.append(("add_broadcast", m.SerializeToString(), ["ONNX node 'odd_add' (Add)", "[2, 1]", "broadcasts"]))
    return out


def main():
    failures = []
    with tempfile.TemporaryDirectory() as top:
        folder = os.path.join(top, "models")
        os.mkdir(folder)
        for name, data, expected in cases(folder):
            path = os.path.join(folder, name + ".onnx")
            with open(path, "wb") as f:
                f.write(data)
            before = set(os.listdir(folder))
            out_json = os.path.join(folder, name + ".json")
            result = subprocess.run([KILN, "import", path, "-o", out_json], capture_output=True, text=True)
            lines = result.stderr.strip().splitlines()
            written = set(os.listdir(folder)) - before
            problems = []
            if result.returncode != 2:
                problems.append(f"exit {result.returncode}, expected 2")
            if len(lines) != 1 or not lines[0].startswith("kiln: error: "):
                problems.append(f"stderr is not one 'kiln: error:' line: {result.stderr!r}")
            problems += [f"the message lacks {text!r}" for text in expected if text not in result.stderr]
            if written:
                problems.append(f"wrote {sorted(written)}")
            if problems:
                failures.append(f"{name}: " + "; ".join(problems) + f" (stderr: {result.stderr.strip()})")
            else:
                print(f"ok {name}: {lines[0]}")
    for f in failures:
        print("FAIL " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
