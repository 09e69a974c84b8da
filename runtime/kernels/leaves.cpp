// Leaves own no computation: inputs and labels are fed, params live in the
// parameter store. Only a constant materialises its attribute values.
#include "runtime/kernels/common.hpp"
#include "runtime/kernels/kernel_list.hpp"

namespace kiln::kernels {

void input(const KernelCall&) {}
void labels(const KernelCall&) {}
void param(const KernelCall&) {}

// A get_output's buffer is written by the kernel of the node it reads
// (KernelCall::extra_out); the plan binds no call for it.
void get_output(const KernelCall&) {}

void constant(const KernelCall& c) {
  detail::for_float(c.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* y = detail::output<T>(c);
    const std::vector<double>& v = c.attrs->value;
    for (std::size_t i = 0; i < v.size(); ++i) y[i] = static_cast<T>(v[i]);
  });
}

}  // namespace kiln::kernels
