// libFuzzer harness: an IDX images file and an IDX labels file (one input:
// a flags byte, then the two files split at kPairSeparator) through
// load_idx. Flag bit 0 / bit 1 gzip the images / labels file first, so the
// gzip path sees valid streams carrying fuzzed headers and payloads (raw
// gzip bytes from the corpus exercise corrupt streams).
#include <zlib.h>

#include "frontends/data/idx.hpp"
#include "fuzz_support.hpp"
#include "graph/error.hpp"

namespace {

std::string gzip(std::string_view raw) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&z, raw.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string images_path = kiln::fuzz::scratch_path("images.idx");
  static const std::string labels_path = kiln::fuzz::scratch_path("labels.idx");
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  auto [images, labels] = kiln::fuzz::split_pair(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1),
                                                 kiln::fuzz::kPairSeparator);
  kiln::fuzz::write_file(images_path, (flags & 1) ? std::string_view(gzip(images)) : images);
  kiln::fuzz::write_file(labels_path, (flags & 2) ? std::string_view(gzip(labels)) : labels);
  try {
    kiln::data::Dataset d = kiln::data::load_idx(images_path, labels_path);
    if (d.rows <= 0 || d.features <= 0 || d.x.size() != static_cast<std::size_t>(d.rows * d.features) ||
        d.y.size() != static_cast<std::size_t>(d.rows) || d.classes <= 0 || d.classes > 256)
      std::abort();
  } catch (const kiln::Error&) {
  }
  return 0;
}
