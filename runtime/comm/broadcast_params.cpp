#include "runtime/comm/broadcast_params.hpp"

#include <cstdint>

#include "graph/error.hpp"

namespace kiln {
namespace {

// FNV-1a over the names, shapes and dtypes: equal on every rank exactly when
// the stores have one layout (up to a collision nobody will meet).
std::uint64_t layout_hash(const ParamStore& params) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      h ^= static_cast<const unsigned char*>(p)[i];
      h *= 1099511628211ull;
    }
  };
  for (const std::string& name : params.names()) {
    const Tensor& t = params.get(name);
    mix(name.data(), name.size() + 1);
    for (std::int64_t d : t.shape().dims()) mix(&d, sizeof d);
    const auto dtype = static_cast<int>(t.dtype());
    mix(&dtype, sizeof dtype);
  }
  return h;
}

}  // namespace

void broadcast_params(Communicator& comm, ParamStore& params, int root) {
  if (root < 0 || root >= comm.size())
    throw Error("broadcast_params: root rank " + std::to_string(root) + " is not in [0, " +
                std::to_string(comm.size()) + ")");
  const std::uint64_t mine = layout_hash(params);
  std::uint64_t roots = mine;
  comm.broadcast(&roots, sizeof roots, root);
  std::int32_t differs = roots != mine ? 1 : 0;
  comm.allreduce_sum(&differs, 1, DType::i32);
  if (differs)
    throw Error("broadcast_params: " + std::to_string(differs) + " of " + std::to_string(comm.size()) +
                " ranks hold other params (names, shapes or dtypes) than rank " + std::to_string(root) +
                "; every rank must compile the same graph with the same optimizer");
  for (const std::string& name : params.names()) {
    Tensor& t = params.get(name);
    comm.broadcast(t.raw(), t.bytes(), root);
  }
}

}  // namespace kiln
