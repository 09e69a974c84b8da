#!/usr/bin/python3
"""Writes the seed corpus for the fuzz harnesses into tests/fuzz/corpus/.

graph_json: the example graphs (examples/graphs/*.json) as they are.
npy:        small arrays NumPy writes itself (every dtype kiln reads, 0-d to
            3-d, format versions 1.0 and 2.0) and a few hostile headers.
csv:        features + labels pairs joined by the harness's separator.
idx:        a flags byte (bit 0: the harness gzips the images file, bit 1 the
            labels file) then images + labels joined by the separator; also
            files gzip-compressed here, which the harness passes on as they are.
checkpoint: safetensors files written the way the reference writer does.
onnx:       small models torch.onnx.export writes (Linear stacks with ReLU,
            Tanh, Sigmoid, Flatten, LogSoftmax; opsets 9, 13, 17).

Re-run after changing a reader's format: /usr/bin/python3 tests/fuzz/make_corpus.py
"""
import gzip
import io
import json
import pathlib
import shutil
import struct

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = HERE / "corpus"
SEPARATOR = b"\n--KILN-FUZZ-NEXT-FILE--\n"  # tests/fuzz/fuzz_support.hpp kPairSeparator


def reset(name):
    d = CORPUS / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


def graph_json():
    d = reset("graph_json")
    for f in sorted((ROOT / "examples" / "graphs").glob("*.json")):
        shutil.copy(f, d / f.name)


def npy_bytes(array, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, array)
    else:
        np.lib.format.write_array(buf, array, version=version)
    return buf.getvalue()


def npy():
    d = reset("npy")
    rng = np.random.default_rng(0)
    arrays = {
        "f32_2x3": rng.standard_normal((2, 3)).astype(np.float32),
        "f64_4": rng.standard_normal(4),
        "i32_5": np.arange(5, dtype=np.int32),
        "i64_3": np.array([0, 2, 1], dtype=np.int64),
        "f32_scalar": np.float32(1.5).reshape(()),
        "f32_2x2x2": np.ones((2, 2, 2), dtype=np.float32),
    }
    for name, a in arrays.items():
        (d / f"{name}.npy").write_bytes(npy_bytes(a))
    (d / "f32_v2.npy").write_bytes(npy_bytes(arrays["f32_2x3"], version=(2, 0)))

    def with_header(text):
        header = text.encode()
        header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header

    # Hostile headers: huge and overflowing element counts, no data behind them.
    (d / "huge_shape.npy").write_bytes(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }"))
    (d / "overflow_shape.npy").write_bytes(with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"))


def csv():
    d = reset("csv")
    pairs = {
        "small": (b"1,2,3\n4,5,6\n", b"0\n1\n"),
        "floats_crlf": (b"0.5, -1e-3\r\n+2.25,3\r\n\r\n", b"1.0\r\n0\r\n"),
        "one": (b"7\n", b"2\n"),
    }
    for name, (features, labels) in pairs.items():
        (d / name).write_bytes(features + SEPARATOR + labels)


def idx_pair(count, height, width):
    images = struct.pack(">IIII", 0x803, count, height, width) + bytes((i * 37) % 256 for i in range(count * height * width))
    labels = struct.pack(">II", 0x801, count) + bytes(i % 10 for i in range(count))
    return images, labels


def idx():
    d = reset("idx")
    images, labels = idx_pair(3, 2, 2)
    (d / "raw").write_bytes(b"\x00" + images + SEPARATOR + labels)
    (d / "gzip_by_harness").write_bytes(b"\x03" + images + SEPARATOR + labels)
    (d / "gzip_in_file").write_bytes(b"\x00" + gzip.compress(images, mtime=0) + SEPARATOR + gzip.compress(labels, mtime=0))
    images, labels = idx_pair(1, 1, 1)
    (d / "one_pixel").write_bytes(b"\x00" + images + SEPARATOR + labels)
    # Hostile: a count of 2^32-1 images of 2^32-1 x 2^32-1 pixels, nothing behind it.
    (d / "huge_count").write_bytes(b"\x00" + struct.pack(">IIII", 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + SEPARATOR +
                                   struct.pack(">II", 0x801, 0xFFFFFFFF))


def safetensors(tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    data = b""
    for name, a in tensors.items():
        code = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int32): "I32"}[a.dtype]
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def checkpoint():
    d = reset("checkpoint")
    rng = np.random.default_rng(1)
    (d / "params.safetensors").write_bytes(safetensors(
        {"W": rng.standard_normal((3, 2)).astype(np.float32), "b": np.zeros(2, np.float32),
         "step": np.array([4], np.int32), "v/W": np.ones((3, 2), np.float64)},
        {"model": "logreg", "epoch": "2"}))
    (d / "scalar.safetensors").write_bytes(safetensors({"s": np.float32(2.0).reshape(())}))
    (d / "empty.safetensors").write_bytes(safetensors({}))
    # Hostile: offsets far outside the file.
    text = json.dumps({"W": {"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 4000000000000]}}).encode()
    (d / "offsets_outside.safetensors").write_bytes(struct.pack("<Q", len(text)) + text)


def onnx_models():
    import torch  # Debian's python3-torch
    d = reset("onnx")
    nn = torch.nn
    models = {
        "mlp_relu": (nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3)), (2, 4), 13),
        "tanh_nobias": (nn.Sequential(nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 2)), (2, 3), 9),
        "flatten_sigmoid": (nn.Sequential(nn.Flatten(), nn.Linear(6, 3), nn.Sigmoid(), nn.Linear(3, 2),
                                          nn.LogSoftmax(dim=1)), (2, 1, 2, 3), 17),
    }
    torch.manual_seed(0)
    for name, (module, shape, opset) in models.items():
        torch.onnx.export(module, torch.zeros(shape), str(d / (name + ".onnx")), opset_version=opset,
                          input_names=["x"], output_names=["out"], dynamic_axes={"x": {0: "batch"}})


if __name__ == "__main__":
    graph_json()
    npy()
    csv()
    idx()
    checkpoint()
    onnx_models()
    print("seed corpus written to", CORPUS)
