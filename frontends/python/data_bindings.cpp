// The datasets `kiln train --data` reads, as NumPy arrays, and the GEMM
// thread setting.
#include "arrays.hpp"
#include "bindings.hpp"
#include "frontends/data/load.hpp"
#include "runtime/threads.hpp"

namespace kiln::python {

namespace {

py::object as_arrays(const data::Dataset& d) {
  if (d.rows == 0) return py::none();
  return py::make_tuple(copy_to_numpy(d.x.data(), Shape{d.rows, d.features}, DType::f32),
                        copy_to_numpy(d.y.data(), Shape{d.rows}, DType::i32));
}

}  // namespace

void bind_data(py::module_& m) {
  m.def("load_dataset", [](const std::string& spec, std::uint64_t seed) {
    const data::Split split = data::load_dataset(spec, seed);
    py::dict out;
    out["train"] = as_arrays(split.train);
    out["test"] = as_arrays(split.test);
    out["classes"] = split.train.classes;
    return out;
  }, py::arg("spec"), py::arg("seed") = 0,
        "A dataset as kiln train --data names it (digits, spiral, moons, fashion-mnist, csv:X.csv,Y.csv, ...):\n"
        "{'train': (x float32 [rows, features], y int32 [rows]), 'test': the same or None, 'classes': n}");
  m.def("set_threads", &set_threads, py::arg("n"), "Threads the GEMMs may use (process-wide)");
  m.def("threads", &threads);
}

}  // namespace kiln::python
