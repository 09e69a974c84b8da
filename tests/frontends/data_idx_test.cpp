#include <catch2/catch.hpp>

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "frontends/data/idx.hpp"
#include "graph/error.hpp"

using namespace kiln::data;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

void put32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
}

// An IDX file as the MNIST site describes it: big-endian magic, dimensions, bytes.
Bytes idx(std::uint32_t magic, const std::vector<std::uint32_t>& dims, const Bytes& payload) {
  Bytes out;
  put32(out, magic);
  for (const auto d : dims) put32(out, d);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("kiln_data_idx_" + std::to_string(::getpid()));
  ScratchDir() { fs::create_directories(path); }
  ~ScratchDir() { fs::remove_all(path); }

  std::string raw(const std::string& name, const Bytes& bytes) const {
    const fs::path file = path / name;
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return file.string();
  }
  std::string gzip(const std::string& name, const Bytes& bytes) const {
    const fs::path file = path / name;
    gzFile out = gzopen(file.string().c_str(), "wb");
    REQUIRE(out);
    REQUIRE(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(out) == Z_OK);
    return file.string();
  }
};

// Five 3×4 images whose pixels are distinct and reach both 0 and 255.
const Bytes kPixels = [] {
  Bytes p;
  for (int i = 0; i < 60; ++i) p.push_back(static_cast<unsigned char>(i == 59 ? 255 : i * 4));
  return p;
}();
const Bytes kLabels = {0, 3, 1, 2, 3};
const Bytes kImagesFile = idx(0x803, {5, 3, 4}, kPixels);
const Bytes kLabelsFile = idx(0x801, {5}, kLabels);

void check_small_dataset(const Dataset& d) {
  CHECK(d.rows == 5);
  CHECK(d.features == 12);
  CHECK(d.classes == 4);
  CHECK(d.x == std::vector<float>(kPixels.begin(), kPixels.end()));
  CHECK(d.y == std::vector<std::int32_t>{0, 3, 1, 2, 3});
  validate(d);
}

}  // namespace

TEST_CASE("idx: raw files round trip, pixel values unscaled", "[data][idx]") {
  ScratchDir dir;
  const Dataset d = load_idx(dir.raw("images", kImagesFile), dir.raw("labels", kLabelsFile));
  check_small_dataset(d);
  CHECK(d.x.back() == 255.0f);
}

TEST_CASE("idx: gzip files round trip, recognised by content not name", "[data][idx]") {
  ScratchDir dir;
  check_small_dataset(load_idx(dir.gzip("images.gz", kImagesFile), dir.gzip("labels.gz", kLabelsFile)));
  check_small_dataset(load_idx(dir.gzip("images", kImagesFile), dir.raw("labels", kLabelsFile)));
}

TEST_CASE("idx: wrong magic numbers are named", "[data][idx]") {
  ScratchDir dir;
  const auto images = dir.raw("images", kImagesFile), labels = dir.raw("labels", kLabelsFile);
  CHECK_THROWS_WITH(load_idx(labels, images),
                    Catch::Contains(labels + ": bad magic number 0x00000801 (a labels file) for an IDX images file, "
                                             "expected 0x00000803"));
  CHECK_THROWS_WITH(load_idx(images, images), Catch::Contains("0x00000803 (an images file) for an IDX labels file"));
  const auto text = dir.raw("text", Bytes{'h', 'e', 'l', 'l', 'o', '\n'});
  CHECK_THROWS_WITH(load_idx(text, labels), Catch::Contains("0x68656c6c") && Catch::Contains("IDX file at all"));
  const auto floats = dir.gzip("floats.gz", idx(0xD03, {5, 3, 4}, kPixels));
  CHECK_THROWS_WITH(load_idx(floats, labels), Catch::Contains("0x00000d03") && Catch::Contains("after gunzip"));
}

TEST_CASE("idx: truncated files say how many bytes were expected and found", "[data][idx]") {
  ScratchDir dir;
  const auto labels = dir.raw("labels", kLabelsFile);
  const Bytes cut(kImagesFile.begin(), kImagesFile.end() - 10);
  CHECK_THROWS_WITH(load_idx(dir.raw("images", cut), labels),
                    Catch::Contains("truncated: header claims 5 images of 3×4 pixels, so expected 76 bytes, found 66"));
  CHECK_THROWS_WITH(load_idx(dir.raw("stub", Bytes{0, 0, 8}), labels),
                    Catch::Contains("truncated: expected an IDX images header of at least 4 bytes, found 3"));
  CHECK_THROWS_WITH(load_idx(dir.raw("half-header", Bytes{0, 0, 8, 3, 0, 0, 0, 5, 0}), labels),
                    Catch::Contains("expected a 16-byte header, found 9 bytes"));
  const Bytes short_labels(kLabelsFile.begin(), kLabelsFile.end() - 1);
  CHECK_THROWS_WITH(load_idx(dir.raw("images", kImagesFile), dir.raw("short-labels", short_labels)),
                    Catch::Contains("short-labels: truncated: header claims 5 labels, so expected 13 bytes, found 12"));

  // A gzip file cut short: its trailer no longer records the size the header claims.
  const auto gz = dir.gzip("whole.gz", kImagesFile);
  Bytes compressed(fs::file_size(gz));
  std::ifstream(gz, std::ios::binary).read(reinterpret_cast<char*>(compressed.data()), std::streamsize(compressed.size()));
  compressed.resize(compressed.size() - 6);
  CHECK_THROWS_WITH(load_idx(dir.raw("cut.gz", compressed), labels),
                    Catch::Contains("cut.gz") && Catch::Contains("expected 76 bytes uncompressed") &&
                        Catch::Contains("truncated"));
}

TEST_CASE("idx: counts that disagree with each other or the file", "[data][idx]") {
  ScratchDir dir;
  const auto images = dir.raw("images", kImagesFile);
  const auto four_labels = dir.raw("four", idx(0x801, {4}, {0, 1, 2, 3}));
  CHECK_THROWS_WITH(load_idx(images, four_labels),
                    Catch::Contains(four_labels + ": header claims 4 labels, but " + images + " claims 5 images"));
  Bytes longer = kImagesFile;
  longer.push_back(7);
  CHECK_THROWS_WITH(load_idx(dir.raw("long", longer), dir.raw("labels", kLabelsFile)),
                    Catch::Contains("1 bytes after the end") && Catch::Contains("expected 76 bytes, found 77"));
  CHECK_THROWS_WITH(load_idx(dir.raw("empty-dim", idx(0x803, {5, 0, 4}, {})), dir.raw("labels", kLabelsFile)),
                    Catch::Contains("5×0×4") && Catch::Contains("at least 1"));
}

TEST_CASE("idx: a huge claimed count is refused before anything is allocated", "[data][idx]") {
  ScratchDir dir;
  const std::uint32_t huge = 0xFFFFFFFF;
  const auto images = dir.raw("images", idx(0x803, {huge, 28, 28}, kPixels));
  const auto labels = dir.raw("labels", idx(0x801, {huge}, kLabels));
  const std::uint64_t expected = std::uint64_t{huge} * 28 * 28 + 16;  // ≈ 3.4 TB
  CHECK_THROWS_WITH(load_idx(images, labels),
                    Catch::Contains("truncated: header claims 4294967295 images of 28×28 pixels, so expected " +
                                    std::to_string(expected) + " bytes, found 76"));
  const auto gz_images = dir.gzip("images.gz", idx(0x803, {huge, 28, 28}, kPixels));
  CHECK_THROWS_WITH(load_idx(gz_images, labels), Catch::Contains("more than a gzip file of"));
}

TEST_CASE("idx: missing files", "[data][idx]") {
  ScratchDir dir;
  const auto labels = dir.raw("labels", kLabelsFile);
  CHECK_THROWS_WITH(load_idx((dir.path / "nope").string(), labels), Catch::Contains("cannot open IDX file") &&
                                                                        Catch::Contains("nope"));
  CHECK_THROWS_WITH(load_idx(dir.path.string(), labels), Catch::Contains("is a directory"));
}

TEST_CASE("load_mnist_dir: finds raw or gzip files and names the halves", "[data][idx]") {
  ScratchDir dir;
  dir.gzip("train-images-idx3-ubyte.gz", kImagesFile);
  dir.raw("train-labels-idx1-ubyte", kLabelsFile);
  dir.raw("t10k-images-idx3-ubyte", idx(0x803, {2, 3, 4}, Bytes(24, 9)));
  dir.gzip("t10k-labels-idx1-ubyte.gz", idx(0x801, {2}, {6, 1}));
  const Split split = load_mnist_dir(dir.path.string());
  check_small_dataset([&] {
    Dataset train = split.train;
    train.classes = 4;  // the test half's label 6 raised the shared count
    return train;
  }());
  CHECK(split.train.name == "mnist/train");
  CHECK(split.test.name == "mnist/test");
  CHECK(split.test.rows == 2);
  CHECK(split.train.classes == 7);
  CHECK(split.test.classes == 7);

  fs::remove(dir.path / "t10k-labels-idx1-ubyte.gz");
  CHECK_THROWS_WITH(load_mnist_dir(dir.path.string(), "fashion-mnist"),
                    Catch::Contains("fashion-mnist: found neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz"));
  CHECK_THROWS_WITH(load_mnist_dir((dir.path / "absent").string()), Catch::Contains("does not exist"));
}

TEST_CASE("load_fashion_mnist: a missing directory says which package installs it", "[data][idx]") {
  CHECK_THROWS_WITH(load_fashion_mnist("/nonexistent/fashion"),
                    Catch::Contains("/nonexistent/fashion") && Catch::Contains("apt-get install dataset-fashion-mnist"));
}

TEST_CASE("Fashion-MNIST from Debian's dataset-fashion-mnist, when installed", "[data][idx][fashion-mnist]") {
  if (!fs::is_directory(kFashionMnistDir)) {
    WARN("skipped: " << kFashionMnistDir << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const Split split = load_fashion_mnist();
  CHECK(split.train.rows == 60000);
  CHECK(split.test.rows == 10000);
  CHECK(split.train.features == 784);
  CHECK(split.test.features == 784);
  CHECK(split.train.classes == 10);
  validate(split.train);
  validate(split.test);
  // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
  std::vector<int> train_count(10, 0), test_count(10, 0);
  for (const auto label : split.train.y) ++train_count[static_cast<std::size_t>(label)];
  for (const auto label : split.test.y) ++test_count[static_cast<std::size_t>(label)];
  CHECK(train_count == std::vector<int>(10, 6000));
  CHECK(test_count == std::vector<int>(10, 1000));
  float lowest = 255, highest = 0;
  for (const float v : split.train.x) {
    lowest = std::min(lowest, v);
    highest = std::max(highest, v);
  }
  CHECK(lowest == 0.0f);
  CHECK(highest == 255.0f);
}
