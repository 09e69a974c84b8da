#include "frontends/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "graph/error.hpp"

namespace kiln::data {
namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr std::uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
// Deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes
// holds at most this many times n uncompressed bytes (plus its own small header).
constexpr std::uint64_t kMaxDeflateRatio = 1032;

std::string hex32(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

std::uint32_t big_endian32(const unsigned char* bytes) {
  return std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 | std::uint32_t{bytes[2]} << 8 | bytes[3];
}

// Sequential reading of a raw or gzip file, whichever it turns out to be.
class ByteSource {
 public:
  explicit ByteSource(std::string path) : path_(std::move(path)) {
    std::error_code error;
    if (std::filesystem::is_directory(path_, error)) throw Error(path_ + ": is a directory, expected an IDX file");
    raw_.reset(std::fopen(path_.c_str(), "rb"));
    if (!raw_) throw Error("cannot open IDX file '" + path_ + "': " + std::strerror(errno));
    std::fseek(raw_.get(), 0, SEEK_END);
    file_size_ = static_cast<std::uint64_t>(std::ftell(raw_.get()));
    std::rewind(raw_.get());
    std::array<unsigned char, 2> start{};
    gzip_ = std::fread(start.data(), 1, 2, raw_.get()) == 2 && start[0] == 0x1f && start[1] == 0x8b;
    std::rewind(raw_.get());
    if (!gzip_) return;
    // The gzip trailer's last 4 bytes are the uncompressed size mod 2^32 (little-endian).
    std::array<unsigned char, 4> trailer{};
    if (file_size_ >= 18 && std::fseek(raw_.get(), -4, SEEK_END) == 0 && std::fread(trailer.data(), 1, 4, raw_.get()) == 4)
      recorded_size_ = std::uint32_t{trailer[0]} | std::uint32_t{trailer[1]} << 8 | std::uint32_t{trailer[2]} << 16 |
                       std::uint32_t{trailer[3]} << 24;
    raw_.reset();
    compressed_.reset(gzopen(path_.c_str(), "rb"));
    if (!compressed_) throw Error("cannot open gzip file '" + path_ + "': " + std::strerror(errno));
  }

  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_; }

  // Reads up to n bytes; fewer only at the end of the data.
  std::size_t read(void* out, std::size_t n) {
    auto* bytes = static_cast<unsigned char*>(out);
    std::size_t done = 0;
    while (done < n) {
      const std::size_t want = std::min<std::size_t>(n - done, std::size_t{1} << 30);
      std::size_t got = 0;
      if (gzip_) {
        const int result = gzread(compressed_.get(), bytes + done, static_cast<unsigned>(want));
        if (result < 0) {
          int code = 0;
          throw Error(path_ + ": gzip data is corrupt after " + std::to_string(consumed_ + done) +
                      " uncompressed bytes: " + gzerror(compressed_.get(), &code));
        }
        got = static_cast<std::size_t>(result);
      } else {
        got = std::fread(bytes + done, 1, want, raw_.get());
      }
      if (got == 0) break;
      done += got;
    }
    consumed_ += done;
    return done;
  }

  // Throws unless the data holds exactly `expected` bytes in all; checked before
  // reading the payload so that the payload buffer can be trusted.
  void expect_total_size(std::uint64_t expected, const std::string& claim) const {
    if (!gzip_) {
      if (file_size_ < expected)
        throw Error(path_ + ": truncated: " + claim + ", so expected " + std::to_string(expected) + " bytes, found " +
                    std::to_string(file_size_));
      if (file_size_ > expected)
        throw Error(path_ + ": " + std::to_string(file_size_ - expected) + " bytes after the end: " + claim +
                    ", so expected " + std::to_string(expected) + " bytes, found " + std::to_string(file_size_));
      return;
    }
    if (expected > file_size_ * kMaxDeflateRatio + 1024)
      throw Error(path_ + ": truncated: " + claim + ", so expected " + std::to_string(expected) +
                  " bytes uncompressed, more than a gzip file of " + std::to_string(file_size_) + " bytes can hold");
    if (static_cast<std::uint32_t>(expected) != recorded_size_)
      throw Error(path_ + ": " + claim + ", so expected " + std::to_string(expected) +
                  " bytes uncompressed, but the gzip trailer records " + std::to_string(recorded_size_) +
                  " (mod 2^32): truncated or corrupt file");
  }

  // After the payload: a short read or leftover data means the header lied.
  void expect_end(std::uint64_t expected) {
    if (consumed_ < expected)
      throw Error(path_ + ": truncated: expected " + std::to_string(expected) + " bytes, found " +
                  std::to_string(consumed_));
    unsigned char extra = 0;
    if (read(&extra, 1) != 0)
      throw Error(path_ + ": data continues after the " + std::to_string(expected) + " bytes its header accounts for");
  }

 private:
  struct CloseFile {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  struct CloseGz {
    void operator()(gzFile f) const { gzclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, CloseFile> raw_;
  std::unique_ptr<gzFile_s, CloseGz> compressed_;
  bool gzip_ = false;
  std::uint64_t file_size_ = 0;
  std::uint32_t recorded_size_ = 0;
  std::uint64_t consumed_ = 0;
};

struct IdxHeader {
  std::vector<std::uint32_t> dims;
  std::uint64_t header_bytes = 0;
  std::uint64_t payload_bytes = 0;  // product of dims (one byte per element)
};

const char* describe_magic(std::uint32_t magic) {
  switch (magic) {
    case kImagesMagic: return " (an images file)";
    case kLabelsMagic: return " (a labels file)";
    default: return "";
  }
}

IdxHeader read_header(ByteSource& source, std::uint32_t expected_magic, const char* role) {
  std::array<unsigned char, 4> word{};
  const std::size_t got = source.read(word.data(), 4);
  if (got < 4)
    throw Error(source.path() + ": truncated: expected an IDX " + role + " header of at least 4 bytes, found " +
                std::to_string(got));
  const std::uint32_t magic = big_endian32(word.data());
  if (magic != expected_magic)
    throw Error(source.path() + ": bad magic number " + hex32(magic) + describe_magic(magic) + " for an IDX " + role +
                " file, expected " + hex32(expected_magic) + (source.gzip() ? " after gunzip" : "") +
                ((magic >> 16) == 0 ? "" : "; is this an IDX file at all?"));
  IdxHeader header;
  const std::size_t rank = magic & 0xff;
  header.header_bytes = 4 + 4 * rank;
  header.payload_bytes = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    const std::size_t size_got = source.read(word.data(), 4);
    if (size_got < 4)
      throw Error(source.path() + ": truncated: expected a " + std::to_string(header.header_bytes) +
                  "-byte header, found " + std::to_string(4 + 4 * i + size_got) + " bytes");
    const std::uint32_t dim = big_endian32(word.data());
    header.dims.push_back(dim);
    if (dim != 0 && header.payload_bytes > std::numeric_limits<std::uint64_t>::max() / 2 / dim)
      throw Error(source.path() + ": header dimensions overflow 64 bits");
    header.payload_bytes *= dim;
  }
  return header;
}

std::string dims_text(const std::vector<std::uint32_t>& dims) {
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? "×" : "") + std::to_string(dims[i]);
  return text;
}

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path) {
  ByteSource images(images_path), labels(labels_path);
  const IdxHeader image_header = read_header(images, kImagesMagic, "images");
  const IdxHeader label_header = read_header(labels, kLabelsMagic, "labels");
  const std::uint32_t count = image_header.dims[0], height = image_header.dims[1], width = image_header.dims[2];
  if (count == 0 || height == 0 || width == 0)
    throw Error(images_path + ": header claims " + dims_text(image_header.dims) +
                " (count×height×width); every dimension must be at least 1");
  if (label_header.dims[0] != count)
    throw Error(labels_path + ": header claims " + std::to_string(label_header.dims[0]) + " labels, but " + images_path +
                " claims " + std::to_string(count) + " images");
  const std::uint64_t image_total = image_header.header_bytes + image_header.payload_bytes;
  const std::uint64_t label_total = label_header.header_bytes + label_header.payload_bytes;
  images.expect_total_size(image_total, "header claims " + std::to_string(count) + " images of " +
                                            std::to_string(height) + "×" + std::to_string(width) + " pixels");
  labels.expect_total_size(label_total, "header claims " + std::to_string(count) + " labels");

  Dataset d;
  d.name = images_path;
  d.rows = count;
  d.features = std::int64_t{height} * width;
  d.x.resize(static_cast<std::size_t>(image_header.payload_bytes));
  // Convert through a small buffer rather than holding a second, byte-sized copy.
  std::vector<unsigned char> chunk(std::size_t{1} << 20);
  for (std::size_t done = 0; done < d.x.size();) {
    const std::size_t got = images.read(chunk.data(), std::min(chunk.size(), d.x.size() - done));
    if (got == 0) break;
    std::copy_n(chunk.data(), got, d.x.begin() + static_cast<std::ptrdiff_t>(done));
    done += got;
  }
  images.expect_end(image_total);

  std::vector<unsigned char> label_bytes(count);
  labels.read(label_bytes.data(), label_bytes.size());
  labels.expect_end(label_total);
  d.y.assign(label_bytes.begin(), label_bytes.end());
  d.classes = *std::max_element(label_bytes.begin(), label_bytes.end()) + 1;
  return d;
}

Split load_mnist_dir(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(dir, error)) throw Error(name + ": directory '" + dir + "' does not exist");
  auto find = [&](const std::string& base) {
    for (const std::string& candidate : {base, base + ".gz"}) {
      const fs::path path = fs::path(dir) / candidate;
      if (fs::is_regular_file(path, error)) return path.string();
    }
    throw Error(name + ": found neither " + base + " nor " + base + ".gz in '" + dir + "'");
  };
  Split split;
  // Images before labels, so a missing pair is reported the same way every
  // time (argument evaluation order is unspecified).
  const std::string train_images = find("train-images-idx3-ubyte");
  const std::string train_labels = find("train-labels-idx1-ubyte");
  const std::string test_images = find("t10k-images-idx3-ubyte");
  const std::string test_labels = find("t10k-labels-idx1-ubyte");
  split.train = load_idx(train_images, train_labels);
  split.test = load_idx(test_images, test_labels);
  if (split.train.features != split.test.features)
    throw Error(name + ": train images have " + std::to_string(split.train.features) + " pixels, test images " +
                std::to_string(split.test.features) + " (in '" + dir + "')");
  split.train.name = name + "/train";
  split.test.name = name + "/test";
  split.train.classes = split.test.classes = std::max(split.train.classes, split.test.classes);
  return split;
}

Split load_fashion_mnist(const std::string& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error))
    throw Error("fashion-mnist: directory '" + dir + "' does not exist; on Debian, `apt-get install dataset-fashion-mnist`" +
                " installs the data under " + kFashionMnistDir);
  return load_mnist_dir(dir, "fashion-mnist");
}

}  // namespace kiln::data
