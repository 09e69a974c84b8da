#pragma once
// The scalar function of each elementwise unary op declared with
// KILN_POINTWISE in graph/ops.def: the one definition that the CPU kernel
// (runtime/kernels/pointwise.cpp, float and double) and constant folding
// (passes/constant_eval.cpp, double) both expand. Each is a function object
// whose call operator works for float and double; the kernel loop around it
// is written for the compiler to vectorise.
#include <cmath>

namespace kiln::pointwise {

struct neg {
  template <class T>
  T operator()(T x) const { return -x; }
};

// x < 0 ? 0 : x keeps a NaN visible instead of turning it into 0.
struct relu {
  template <class T>
  T operator()(T x) const { return x < T(0) ? T(0) : x; }
};

// 1 / (1 + e^-x) computed from e^-|x|, which never overflows: exact 0 and 1
// in the limits instead of inf / inf.
struct sigmoid {
  template <class T>
  T operator()(T x) const {
    T e = std::exp(-std::abs(x));
    T r = T(1) / (T(1) + e);
    return x >= T(0) ? r : e * r;
  }
};

struct tanh {
  template <class T>
  T operator()(T x) const { return std::tanh(x); }
};

struct exp {
  template <class T>
  T operator()(T x) const { return std::exp(x); }
};

struct log {
  template <class T>
  T operator()(T x) const { return std::log(x); }
};

struct square {
  template <class T>
  T operator()(T x) const { return x * x; }
};

// log(1 + e^x) as max(x, 0) + log1p(e^-|x|): no overflow for large x, and
// full precision where e^x is tiny.
struct softplus {
  template <class T>
  T operator()(T x) const { return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x))); }
};

struct sqrt {
  template <class T>
  T operator()(T x) const { return std::sqrt(x); }
};

struct reciprocal {
  template <class T>
  T operator()(T x) const { return T(1) / x; }
};

struct abs {
  template <class T>
  T operator()(T x) const { return std::abs(x); }
};

// -1, 0 or 1; a NaN stays NaN (x itself where it is neither above nor below 0).
struct sign {
  template <class T>
  T operator()(T x) const { return x > T(0) ? T(1) : x < T(0) ? T(-1) : x; }
};

struct erf {
  template <class T>
  T operator()(T x) const { return std::erf(x); }
};

}  // namespace kiln::pointwise
