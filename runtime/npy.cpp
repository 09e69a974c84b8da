#include "runtime/npy.hpp"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>

#include "runtime/npy_header.hpp"

namespace kiln {
namespace {

static_assert(std::endian::native == std::endian::little,
              ".npy data is read by copying little-endian bytes; a big-endian host needs byte swapping here");

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
// A header larger than this is not something NumPy writes for a dense array.
constexpr std::uint64_t kMaxHeaderBytes = 1u << 20;

struct FileDType {
  DType dtype;
  std::size_t item_size;  // bytes per element in the file
};

std::optional<FileDType> file_dtype(const std::string& descr) {
  if (descr == "<f4") return FileDType{DType::f32, 4};
  if (descr == "<f8") return FileDType{DType::f64, 8};
  if (descr == "<i4") return FileDType{DType::i32, 4};
  if (descr == "<i8") return FileDType{DType::i32, 8};
  return std::nullopt;
}

class NpyReader {
 public:
  explicit NpyReader(const std::string& path) : path_(path) {
    // Every size in the header is checked against the file's size before
    // anything is allocated, so that size must be known: a directory or a
    // pipe has none (tellg() fails and used to read as 2^64 - 1).
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (std::filesystem::is_directory(status)) fail("a .npy file", "a directory");
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
      fail("a regular .npy file (its size bounds what is read)", "a pipe, socket or device");
    in_.open(path, std::ios::binary);
    if (!in_) fail("a readable .npy file", "it cannot be opened");
    in_.seekg(0, std::ios::end);
    const std::streamoff size = in_.tellg();
    if (size < 0) fail("a .npy file whose size can be read", "a stream that cannot seek");
    file_size_ = static_cast<std::uint64_t>(size);
    in_.seekg(0);
  }

  Tensor read() {
    std::uint64_t data_offset = read_preamble();
    npy::Header h = read_header();
    std::optional<FileDType> fd = file_dtype(h.descr);
    if (!fd)
      fail("dtype '<f4', '<f8', '<i4' or '<i8' (little-endian)", "'" + h.descr + "'");
    if (h.fortran_order) fail("C order (fortran_order False)", "fortran_order True");
    Shape shape = checked_shape(h);
    // Size the data from the file before allocating anything for it.
    const std::uint64_t available = file_size_ - data_offset;
    const std::uint64_t numel = static_cast<std::uint64_t>(shape.numel());
    if (numel > available / fd->item_size)
      fail(std::to_string(numel) + " elements of " + h.descr + " for shape " + shape.str() + " (" +
               std::to_string(numel) + " x " + std::to_string(fd->item_size) + " bytes)",
           std::to_string(available) + " bytes of data: the file is truncated");
    if (available != numel * fd->item_size)
      fail(std::to_string(numel * fd->item_size) + " bytes of data for " + h.descr + " " + shape.str(),
           std::to_string(available) + " bytes (trailing data)");

    Tensor t(shape, fd->dtype);
    in_.seekg(static_cast<std::streamoff>(data_offset));
    if (h.descr == "<i8") read_i8_into(t);
    else read_bytes(t.raw(), t.bytes(), "data");
    return t;
  }

 private:
  [[noreturn]] void fail(const std::string& expected, const std::string& found) const {
    throw Error(path_ + ": expected " + expected + ", found " + found);
  }

  void read_bytes(void* dst, std::size_t n, const char* what) {
    in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in_.gcount()) != n)
      fail(std::to_string(n) + " bytes of " + what, "only " + std::to_string(in_.gcount()) + " (truncated)");
  }

  // Magic, version and header length; returns where the data starts.
  std::uint64_t read_preamble() {
    if (file_size_ < kMagicSize + 4)
      fail("a .npy file (magic \\x93NUMPY, version, header length)", std::to_string(file_size_) + " bytes");
    char magic[kMagicSize];
    read_bytes(magic, kMagicSize, "magic");
    if (std::memcmp(magic, kMagic, kMagicSize) != 0) fail("the magic string \\x93NUMPY", "other bytes: not a .npy file");
    unsigned char version[2];
    read_bytes(version, 2, "version");
    major_ = version[0];
    std::uint64_t header_len = 0;
    std::uint64_t prefix = 0;
    if (major_ == 1) {
      unsigned char len[2];
      read_bytes(len, 2, "header length");
      header_len = len[0] | (std::uint64_t{len[1]} << 8);
      prefix = kMagicSize + 4;
    } else if (major_ == 2 || major_ == 3) {
      unsigned char len[4];
      read_bytes(len, 4, "header length");
      header_len = len[0] | (std::uint64_t{len[1]} << 8) | (std::uint64_t{len[2]} << 16) |
                   (std::uint64_t{len[3]} << 24);
      prefix = kMagicSize + 6;
    } else {
      fail("format version 1.0, 2.0 or 3.0",
           "version " + std::to_string(version[0]) + "." + std::to_string(version[1]));
    }
    if (header_len > kMaxHeaderBytes)
      fail("a header of at most " + std::to_string(kMaxHeaderBytes) + " bytes",
           "a declared length of " + std::to_string(header_len));
    if (prefix + header_len > file_size_)
      fail("a header of " + std::to_string(header_len) + " bytes",
           std::to_string(file_size_ - prefix) + " bytes after the preamble (truncated header)");
    header_len_ = header_len;
    return prefix + header_len;
  }

  npy::Header read_header() {
    std::string text(header_len_, '\0');
    read_bytes(text.data(), text.size(), "header");
    if (major_ < 3 && std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) > 127; }))
      fail("an ASCII header (version " + std::to_string(major_) + ".0)", "non-ASCII bytes");
    try {
      return npy::parse_header(text);
    } catch (const Error& e) {
      throw Error(path_ + ": " + e.what());
    }
  }

  Shape checked_shape(const npy::Header& h) const {
    for (std::size_t i = 0; i < h.shape.size(); ++i)
      if (h.shape[i] <= 0)
        fail("positive dimensions (kiln has no empty tensors)",
             "dimension " + std::to_string(i) + " of 'shape' equal to " + std::to_string(h.shape[i]));
    Shape shape(h.shape);
    try {
      (void)shape.numel();
    } catch (const Error&) {
      fail("a shape whose element count fits in 64 bits", "shape " + shape.str());
    }
    return shape;
  }

  // NumPy's default integer is int64; labels are i32, so each value is
  // range-checked while converting, a chunk at a time.
  void read_i8_into(Tensor& t) {
    std::int32_t* dst = t.data<std::int32_t>();
    constexpr std::size_t kChunk = 4096;
    std::int64_t chunk[kChunk];
    for (std::size_t done = 0; done < t.numel();) {
      std::size_t n = std::min(kChunk, t.numel() - done);
      read_bytes(chunk, n * sizeof(std::int64_t), "data");
      for (std::size_t i = 0; i < n; ++i) {
        if (chunk[i] < std::numeric_limits<std::int32_t>::min() || chunk[i] > std::numeric_limits<std::int32_t>::max())
          fail("'<i8' values that fit in i32", std::to_string(chunk[i]) + " at element " + std::to_string(done + i));
        dst[done + i] = static_cast<std::int32_t>(chunk[i]);
      }
      done += n;
    }
  }

  std::string path_;
  std::ifstream in_;
  std::uint64_t file_size_ = 0;
  std::uint64_t header_len_ = 0;
  int major_ = 0;
};

std::string descr_of(DType t) {
  switch (t) {
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::i32: return "<i4";
  }
  return "?";
}

// NumPy pads the header with spaces so the data starts on a 64-byte
// boundary and ends it with a newline.
std::string encode_preamble_and_header(const Tensor& t) {
  npy::Header h;
  h.descr = descr_of(t.dtype());
  h.shape = t.shape().dims();
  std::string dict = npy::format_header(h);
  for (int major : {1, 2}) {
    std::size_t prefix = kMagicSize + 2 + (major == 1 ? 2 : 4);
    std::size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
    std::size_t header_len = total - prefix;
    if (major == 1 && header_len > 0xFFFF) continue;
    std::string out(kMagic, kMagicSize);
    out += static_cast<char>(major);
    out += '\0';
    for (int b = 0; b < (major == 1 ? 2 : 4); ++b) out += static_cast<char>((header_len >> (8 * b)) & 0xFF);
    out += dict;
    out.append(header_len - dict.size() - 1, ' ');
    out += '\n';
    return out;
  }
  throw Error("a .npy header for shape " + t.shape().str() + " does not fit format version 2.0");
}

}  // namespace

Tensor read_npy(const std::string& path) { return NpyReader(path).read(); }

Tensor read_npy_as(const std::string& path, const Shape& expected, DType expected_dtype,
                   const std::string& node_name) {
  Tensor t = read_npy(path);
  if (t.shape() != expected || t.dtype() != expected_dtype) {
    std::string hint;
    if (is_float(expected_dtype) && is_float(t.dtype()) && t.dtype() != expected_dtype)
      hint = std::string(" (convert it with numpy: a.astype(np.") +
             (expected_dtype == DType::f32 ? "float32" : "float64") + "))";
    throw Error(path + " fed to node '" + node_name + "': expected " + type_str(expected, expected_dtype) +
                ", found " + t.type_str() + hint);
  }
  return t;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  std::string header = encode_preamble_and_header(tensor);
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path + ": cannot open the temporary file '" + tmp + "' for writing");
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char*>(tensor.raw()), static_cast<std::streamsize>(tensor.bytes()));
    out.flush();
    if (!out) {
      out.close();
      std::remove(tmp.c_str());
      throw Error(path + ": writing " + std::to_string(header.size() + tensor.bytes()) + " bytes failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error(path + ": cannot move the written file into place: " + ec.message());
  }
}

}  // namespace kiln
