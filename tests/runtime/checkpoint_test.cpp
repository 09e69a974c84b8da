#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "graph/error.hpp"
#include "runtime/checkpoint.hpp"
#include "runtime/params.hpp"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag)
      : path(fs::temp_directory_path() / ("kiln_checkpoint_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le64(std::uint64_t v) {
  std::string s;
  for (int b = 0; b < 8; ++b) s += static_cast<char>((v >> (8 * b)) & 0xFF);
  return s;
}

// A safetensors file built by hand from the spec: length, header, data.
std::string safetensors(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

std::string zeros(std::size_t n) { return std::string(n, '\0'); }

std::string raw_bytes(const Tensor& t) { return std::string(static_cast<const char*>(t.raw()), t.bytes()); }

// Values chosen to catch any conversion on the way: signed zeros,
// subnormals, infinities, a NaN with a payload, the extremes of i32.
ParamStore awkward_store() {
  ParamStore store;
  Tensor& w = store.add("fc1/W", Shape{3, 4}, DType::f32);
  const float f32_specials[] = {-0.0f,
                                std::numeric_limits<float>::denorm_min(),
                                std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::max(),
                                std::numeric_limits<float>::lowest(),
                                1.0f / 3.0f};
  for (std::size_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = f32_specials[i % 7] * (i < 7 ? 1.0f : -0.5f);
  std::uint32_t nan_bits = 0x7FC01234u;  // a quiet NaN carrying a payload
  std::memcpy(&w.data<float>()[11], &nan_bits, sizeof nan_bits);

  Tensor& b = store.add("fc1/b", Shape{2, 3, 2}, DType::f64);
  for (std::size_t i = 0; i < b.numel(); ++i) b.data<double>()[i] = std::ldexp(1.0 / 7.0 + double(i), int(i) * 80 - 400);
  b.data<double>()[0] = std::numeric_limits<double>::denorm_min();

  Tensor& labels = store.add("labels", Shape{5}, DType::i32);
  const std::int32_t ints[] = {std::numeric_limits<std::int32_t>::min(), -1, 0, 1, std::numeric_limits<std::int32_t>::max()};
  std::memcpy(labels.data<std::int32_t>(), ints, sizeof ints);

  store.add("scalar/f32", Shape{}, DType::f32).data<float>()[0] = -2.75f;
  store.add("scalar/f64", Shape{}, DType::f64).data<double>()[0] = 1e-300;
  store.add("scalar/i32", Shape{}, DType::i32).data<std::int32_t>()[0] = -123456789;
  return store;
}

void check_same_tensors(const std::map<std::string, Tensor>& got, const ParamStore& want) {
  REQUIRE(got.size() == want.size());
  for (const std::string& name : want.names()) {
    INFO(name);
    REQUIRE(got.count(name) == 1);
    const Tensor& g = got.at(name);
    const Tensor& w = want.get(name);
    CHECK(g.type_str() == w.type_str());
    CHECK(raw_bytes(g) == raw_bytes(w));  // bit for bit, NaN payloads included
  }
}

// Runs read_checkpoint and returns the kiln::Error's message.
std::string read_error(const std::string& path) {
  try {
    read_checkpoint(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("save_checkpoint then read_checkpoint returns every f32, f64 and i32 tensor bit for bit",
          "[runtime][checkpoint]") {
  TempDir dir("roundtrip");
  const ParamStore store = awkward_store();
  const std::string path = dir.file("model.safetensors");

  SECTION("without metadata") {
    save_checkpoint(path, store);
    Checkpoint back = read_checkpoint(path);
    check_same_tensors(back.tensors, store);
    CHECK(back.metadata.empty());
  }
  SECTION("with metadata, unicode included") {
    const std::map<std::string, std::string> meta = {
        {"step", "1200"}, {"optimizer", "adam"}, {"note", "λ=0.1, \"quoted\"\n"}, {"", "empty key"}};
    save_checkpoint(path, store, meta);
    Checkpoint back = read_checkpoint(path);
    check_same_tensors(back.tensors, store);
    CHECK(back.metadata == meta);
  }
  SECTION("a read checkpoint written again is byte-identical") {
    save_checkpoint(path, store, {{"step", "7"}});
    Checkpoint back = read_checkpoint(path);
    const std::string again = dir.file("again.safetensors");
    save_checkpoint(again, back);
    CHECK(slurp(again) == slurp(path));
  }
  SECTION("an empty store") {
    save_checkpoint(path, ParamStore{});
    Checkpoint back = read_checkpoint(path);
    CHECK(back.tensors.empty());
    CHECK(back.metadata.empty());
  }
  SECTION("saving over an existing checkpoint replaces it") {
    ParamStore small;
    small.add("x", Shape{1}, DType::f32);
    save_checkpoint(path, small);
    save_checkpoint(path, store);
    check_same_tensors(read_checkpoint(path).tensors, store);
  }
  for (const std::string& name : dir.entries()) CHECK(name.find(".tmp-") == std::string::npos);
}

TEST_CASE("written checkpoints follow the safetensors layout byte for byte", "[runtime][checkpoint]") {
  // Decoded here straight from the spec, independently of read_checkpoint.
  TempDir dir("layout");
  const ParamStore store = awkward_store();
  const std::string path = dir.file("model.safetensors");
  save_checkpoint(path, store, {{"epoch", "3"}});
  const std::string bytes = slurp(path);

  REQUIRE(bytes.size() >= 8);
  std::uint64_t n = 0;
  for (int b = 0; b < 8; ++b) n |= std::uint64_t(static_cast<unsigned char>(bytes[b])) << (8 * b);
  CHECK((8 + n) % 8 == 0);  // padded like the reference writer, so the data is aligned
  REQUIRE(8 + n <= bytes.size());
  const std::string header_text = bytes.substr(8, n);
  CHECK(header_text.front() == '{');
  const nlohmann::json header = nlohmann::json::parse(header_text);
  CHECK(header["__metadata__"] == nlohmann::json{{"epoch", "3"}});

  const std::string data = bytes.substr(8 + n);
  std::uint64_t expected_begin = 0;
  std::size_t tensors = 0;
  for (const std::string& name : store.names()) {  // sorted names, laid out in that order
    INFO(name);
    const Tensor& t = store.get(name);
    const nlohmann::json& entry = header.at(name);
    CHECK(entry.size() == 3);
    const char* code = t.dtype() == DType::f32 ? "F32" : t.dtype() == DType::f64 ? "F64" : "I32";
    CHECK(entry.at("dtype") == code);
    CHECK(entry.at("shape").get<std::vector<std::int64_t>>() == t.shape().dims());
    const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
    REQUIRE(offsets.size() == 2);
    CHECK(offsets[0] == expected_begin);
    CHECK(offsets[1] - offsets[0] == t.bytes());
    CHECK(data.substr(offsets[0], offsets[1] - offsets[0]) == raw_bytes(t));
    expected_begin = offsets[1];
    ++tensors;
  }
  CHECK(header.size() == tensors + 1);
  CHECK(expected_begin == data.size());
}

TEST_CASE("read_checkpoint accepts any tensor order in the data and an unpadded header", "[runtime][checkpoint]") {
  TempDir dir("order");
  const std::string path = dir.file("c.safetensors");
  const float a[] = {1.5f, -2.0f};
  const std::int32_t b[] = {7};
  const std::string data = std::string(reinterpret_cast<const char*>(b), 4) + std::string(reinterpret_cast<const char*>(a), 8);
  spit(path, safetensors(R"({"a":{"shape":[2],"data_offsets":[4,12],"dtype":"F32"},"b":{"dtype":"I32","shape":[],"data_offsets":[0,4]}})",
                         data));
  Checkpoint c = read_checkpoint(path);
  REQUIRE(c.tensors.size() == 2);
  CHECK(c.tensors.at("a").type_str() == "f32 [2]");
  CHECK(c.tensors.at("a").values() == std::vector<double>{1.5, -2.0});
  CHECK(c.tensors.at("b").type_str() == "i32 []");
  CHECK(c.tensors.at("b").get(0) == 7);
}

TEST_CASE("read_checkpoint refuses corrupted, truncated and hostile files, naming the file and the problem",
          "[runtime][checkpoint]") {
  struct Case {
    const char* what;
    std::string bytes;
    std::vector<std::string> message;  // all must appear
  };
  const std::string f32x2 = R"("dtype":"F32","shape":[2])";
  auto one = [](const std::string& fields) { return "{\"a\":{" + fields + "}}"; };
  const std::vector<Case> cases = {
      {"an empty file", "", {"expected at least 8 bytes", "found 0 bytes"}},
      {"a file shorter than the length field", std::string("\x05\0\0\0\0", 5), {"expected at least 8 bytes", "found 5 bytes"}},
      {"an absurd header length", le64(std::uint64_t{1} << 40) + "{}",
       {"expected a header length of at most 100000000 bytes", "found 1099511627776"}},
      {"a header length beyond the file", le64(100) + "{\"a\": 1}",
       {"expected a header of 100 bytes", "only 8 bytes after the length", "truncated"}},
      {"a header that is not JSON", safetensors("{abc", ""), {"expected a JSON header", "invalid JSON"}},
      {"a header with invalid UTF-8", safetensors("{\"\xff\": 1}", ""), {"invalid JSON", "UTF-8"}},
      {"a header that is a JSON array", safetensors("[1, 2]", ""), {"expected a JSON object as the header", "found [1,2]"}},
      {"a tensor twice", safetensors(R"({"a":{}, "a":{}})", ""), {"each tensor named once", "'a' twice"}},
      {"a field twice", safetensors(one(f32x2 + R"(,"dtype":"F64","data_offsets":[0,8])"), zeros(8)),
       {"each key once in the header entry 'a'", "'dtype' twice"}},
      {"an entry that is not an object", safetensors(R"({"a": 3})", ""),
       {"tensor 'a'", "expected an object with 'dtype', 'shape' and 'data_offsets'", "found 3"}},
      {"an unknown field", safetensors(one(f32x2 + R"(,"data_offsets":[0,8],"offset":0)"), zeros(8)),
       {"tensor 'a'", "only the fields", "found 'offset'"}},
      {"a missing field", safetensors(one(f32x2), zeros(8)),
       {"tensor 'a'", "expected a 'data_offsets' field, found none"}},
      {"an unknown dtype", safetensors(one(R"("dtype":"BF16","shape":[2],"data_offsets":[0,4])"), zeros(4)),
       {"tensor 'a'", "expected dtype \"F32\", \"F64\" or \"I32\"", "found \"BF16\""}},
      {"a dtype that is not a string", safetensors(one(R"("dtype":4,"shape":[2],"data_offsets":[0,8])"), zeros(8)),
       {"tensor 'a'", "expected dtype", "found 4"}},
      {"a shape that is not a list", safetensors(one(R"("dtype":"F32","shape":2,"data_offsets":[0,8])"), zeros(8)),
       {"tensor 'a'", "a shape that is a list of non-negative integers", "found 2"}},
      {"a negative dimension", safetensors(one(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"), zeros(8)),
       {"tensor 'a'", "non-negative integers", "found [-2]"}},
      {"a fractional dimension", safetensors(one(R"("dtype":"F32","shape":[2.5],"data_offsets":[0,8])"), zeros(8)),
       {"tensor 'a'", "non-negative integers", "found [2.5]"}},
      {"a zero dimension", safetensors(one(R"("dtype":"F32","shape":[0,3],"data_offsets":[0,0])"), ""),
       {"tensor 'a'", "positive dimensions (kiln has no empty tensors)", "[0,3]"}},
      {"an element count beyond 64 bits",
       safetensors(one(R"("dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8])"), zeros(8)),
       {"tensor 'a'", "element count fits in 64 bits", "[4294967296,4294967296]"}},
      {"a byte count beyond 64 bits",
       safetensors(one(R"("dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8])"), zeros(8)),
       {"tensor 'a'", "size in bytes fits in 64 bits", "F64 [2305843009213693952]"}},
      {"offsets that are not a pair", safetensors(one(f32x2 + R"(,"data_offsets":[0,4,8])"), zeros(8)),
       {"tensor 'a'", "data_offsets [begin, end] of two non-negative integers", "found [0,4,8]"}},
      {"offsets that run backwards", safetensors(one(f32x2 + R"(,"data_offsets":[8,0])"), zeros(8)),
       {"tensor 'a'", "begin <= end", "found [8,0]"}},
      {"offsets that disagree with the shape", safetensors(one(R"("dtype":"F32","shape":[2,2],"data_offsets":[0,12])"), zeros(12)),
       {"tensor 'a'", "data_offsets spanning 16 bytes (F32 [2, 2]: 4 x 4 bytes)", "found [0, 12] (12 bytes)"}},
      {"a truncated data section", safetensors(one(R"("dtype":"F32","shape":[4],"data_offsets":[0,16])"), zeros(8)),
       {"tensor 'a'", "within the data section of 8 bytes", "found [0, 16]", "truncated"}},
      {"a huge shape with few bytes behind it",
       safetensors(one(R"("dtype":"F32","shape":[1000000000,1000],"data_offsets":[0,4000000000000])"), zeros(8)),
       {"tensor 'a'", "within the data section of 8 bytes", "found [0, 4000000000000]"}},
      {"a gap before the first tensor", safetensors(one(f32x2 + R"(,"data_offsets":[4,12])"), zeros(12)),
       {"tensor 'a'", "expected to start at byte 0 at the start of the data", "a gap of 4 bytes"}},
      {"a gap between tensors",
       safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
                   zeros(20)),
       {"tensor 'b'", "expected to start at byte 8 right after tensor 'a'", "found [12, 20]: a gap of 4 bytes"}},
      {"overlapping tensors",
       safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                   zeros(12)),
       {"tensor 'b'", "expected to start at byte 8 right after tensor 'a'", "it overlaps 'a' by 4 bytes"}},
      {"trailing bytes", safetensors(one(f32x2 + R"(,"data_offsets":[0,8])"), zeros(12)),
       {"tensors covering the whole data section of 12 bytes", "found 4 trailing bytes after the last tensor 'a'"}},
      {"data behind an empty header", safetensors("{}", zeros(4)), {"found 4 trailing bytes after an empty header"}},
      {"metadata that is not an object", safetensors(R"({"__metadata__": [1]})", ""),
       {"expected '__metadata__' to be an object of strings", "found [1]"}},
      {"a metadata value that is not a string", safetensors(R"({"__metadata__": {"step": 3}})", ""),
       {"expected string values in '__metadata__'", "found 'step': 3"}},
  };
  TempDir dir("hostile");
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string path = dir.file("bad.safetensors");
    spit(path, c.bytes);
    const std::string message = read_error(path);
    INFO(message);
    CHECK_THAT(message, Catch::StartsWith("checkpoint '" + path + "': "));
    for (const std::string& part : c.message) CHECK_THAT(message, Catch::Contains(part));
  }

  SECTION("a file that does not exist") {
    const std::string path = dir.file("absent.safetensors");
    CHECK(read_error(path) == "checkpoint '" + path + "': cannot open it for reading: No such file or directory");
  }
  SECTION("a directory") {
    CHECK(read_error(dir.path.string()) ==
          "checkpoint '" + dir.path.string() + "': expected a regular file, found a directory");
  }
}

TEST_CASE("load_checkpoint_into copies a matching checkpoint, optimizer state included", "[runtime][checkpoint]") {
  TempDir dir("load");
  const std::string path = dir.file("model.safetensors");
  ParamStore trained = awkward_store();
  trained.add("adam/m/fc1/W", Shape{3, 4}, DType::f32).data<float>()[5] = 0.625f;
  save_checkpoint(path, trained, {{"step", "10"}});

  ParamStore fresh;
  for (const std::string& name : trained.names()) fresh.add(name, trained.get(name).shape(), trained.get(name).dtype());
  Tensor* bound = &fresh.get("fc1/W");  // plans hold pointers into the store
  const void* storage = bound->raw();
  load_checkpoint_into(path, fresh);
  check_same_tensors(read_checkpoint(path).tensors, fresh);
  CHECK(&fresh.get("fc1/W") == bound);
  CHECK(fresh.get("fc1/W").raw() == storage);
  CHECK(fresh.get("adam/m/fc1/W").data<float>()[5] == 0.625f);
}

TEST_CASE("load_checkpoint_into refuses a checkpoint from another model and lists every difference",
          "[runtime][checkpoint]") {
  TempDir dir("mismatch");
  const std::string path = dir.file("a.safetensors");
  ParamStore other;
  other.add("fc1/W", Shape{784, 50}, DType::f32);
  other.add("out/W", Shape{100, 10}, DType::f32);
  other.add("fc2/b", Shape{10}, DType::f64);
  other.add("same", Shape{3}, DType::f32).data<float>()[0] = 9.0f;
  save_checkpoint(path, other);

  ParamStore model;
  model.add("fc1/W", Shape{784, 100}, DType::f32);
  model.add("fc3/W", Shape{200, 10}, DType::f32);
  model.add("fc2/b", Shape{10}, DType::f32);
  model.add("same", Shape{3}, DType::f32).data<float>()[0] = 1.0f;
  try {
    load_checkpoint_into(path, model);
    FAIL("a mismatched checkpoint was accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          "checkpoint '" + path +
              "' does not match the model: missing fc3/W [200, 10]; unexpected out/W [100, 10]; "
              "fc1/W is [784, 50] in the file, [784, 100] in the model; "
              "fc2/b is f64 [10] in the file, f32 [10] in the model");
  }
  CHECK(model.get("same").data<float>()[0] == 1.0f);  // all or nothing

  SECTION("long lists are cut short") {
    ParamStore many;
    for (int i = 0; i < 25; ++i) many.add("p" + std::to_string(100 + i), Shape{1}, DType::f32);
    const std::string empty = dir.file("empty.safetensors");
    save_checkpoint(empty, ParamStore{});
    try {
      load_checkpoint_into(empty, many);
      FAIL("an empty checkpoint was accepted");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("missing p100 [1], p101 [1]") &&
                               Catch::EndsWith("p119 [1] and 5 more"));
    }
  }
}

TEST_CASE("a failing save_checkpoint leaves the previous checkpoint intact and no temporary file",
          "[runtime][checkpoint]") {
  TempDir dir("atomic");
  const std::string path = dir.file("model.safetensors");
  ParamStore old_store;
  old_store.add("w", Shape{4}, DType::f32).data<float>()[0] = 42.0f;
  save_checkpoint(path, old_store, {{"step", "1"}});
  const std::string old_bytes = slurp(path);

  ParamStore big;
  big.add("w", Shape{1 << 18}, DType::f32);  // 1 MiB of data
  big.add("z", Shape{16}, DType::f64);

  // A full disk, simulated: the child may write files of at most `limit`
  // bytes; past it write() fails with EFBIG (SIGXFSZ is ignored so the
  // child survives to report). The limit cuts the length field, the header
  // and the data in turn.
  for (rlim_t limit : {rlim_t{4}, rlim_t{60}, rlim_t{65536}}) {
    INFO("file size limit " << limit);
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      ::signal(SIGXFSZ, SIG_IGN);
      const rlimit lim{limit, limit};
      int code = 3;
      std::string message;
      if (::setrlimit(RLIMIT_FSIZE, &lim) == 0) {
        try {
          save_checkpoint(path, big, {{"step", "2"}});
          code = 1;
        } catch (const Error& e) {
          message = e.what();
          code = 0;
        } catch (...) {
          code = 2;
        }
      }
      (void)!::write(pipe_fds[1], message.data(), message.size());
      ::_exit(code);
    }
    ::close(pipe_fds[1]);
    std::string message;
    char buffer[4096];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, std::size_t(n));
    ::close(pipe_fds[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    INFO(message);
    REQUIRE(WEXITSTATUS(status) == 0);  // 1: the save succeeded, 2: not a kiln::Error, 3: no rlimit
    CHECK_THAT(message, Catch::StartsWith("cannot save checkpoint '" + path + "': writing the temporary file"));
    CHECK_THAT(message, Catch::EndsWith(": File too large"));
    CHECK_THAT(message, Catch::Contains("failed after " + std::to_string(limit) + " of "));

    CHECK(slurp(path) == old_bytes);
    CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});
    Checkpoint survivor = read_checkpoint(path);
    CHECK(survivor.metadata.at("step") == "1");
    CHECK(survivor.tensors.at("w").get(0) == 42.0);
  }
}

TEST_CASE("save_checkpoint names the path and the OS reason when it cannot write", "[runtime][checkpoint]") {
  TempDir dir("unwritable");
  ParamStore store;
  store.add("w", Shape{2}, DType::f32);

  SECTION("a directory that does not exist") {
    const std::string path = dir.file("missing/model.safetensors");
    CHECK_THROWS_WITH(save_checkpoint(path, store),
                      Catch::StartsWith("cannot save checkpoint '" + path + "': cannot create the temporary file") &&
                          Catch::EndsWith(": No such file or directory"));
  }
  SECTION("a path that is a directory") {
    const std::string path = dir.file("model.safetensors");
    fs::create_directory(path);
    fs::create_directory(path + "/keep");
    CHECK_THROWS_WITH(save_checkpoint(path, store),
                      Catch::StartsWith("cannot save checkpoint '" + path + "': renaming it over the checkpoint failed") &&
                          Catch::EndsWith(": Is a directory"));
    CHECK(dir.entries() == std::vector<std::string>{"model.safetensors"});
    CHECK(fs::is_directory(path + "/keep"));
  }
  SECTION("a tensor named like the metadata key") {
    Checkpoint c;
    c.tensors.emplace("__metadata__", Tensor(Shape{1}, DType::f32));
    const std::string path = dir.file("model.safetensors");
    CHECK_THROWS_WITH(save_checkpoint(path, c), Catch::Contains("may not be named '__metadata__'"));
    CHECK(dir.entries().empty());
  }
  SECTION("a name that is not UTF-8") {
    Checkpoint c;
    c.tensors.emplace("w\xff", Tensor(Shape{1}, DType::f32));
    CHECK_THROWS_WITH(save_checkpoint(dir.file("model.safetensors"), c),
                      Catch::Contains("tensor name 'w\xff' is not valid UTF-8"));
    CHECK(dir.entries().empty());
  }
}

// The C++ half of the NumPy cross-check: hidden from the normal run (tag
// [.]) and started by tests/runtime/checkpoint_numpy_check.py, registered as
// runtime.checkpoint_numpy_cross_check (tests/checkpoint_numpy.cmake).
TEST_CASE("kiln reads NumPy-written checkpoints and writes checkpoints NumPy reads",
          "[.][checkpoint-numpy]") {
  const char* dir = std::getenv("KILN_CHECKPOINT_DIR");
  if (!dir) FAIL("run through tests/runtime/checkpoint_numpy_check.py, which sets KILN_CHECKPOINT_DIR");
  const std::string in = std::string(dir) + "/from_numpy.safetensors";
  const std::string out = std::string(dir) + "/from_kiln.safetensors";

  // The same formulas as the script's numpy_tensors().
  Checkpoint c = read_checkpoint(in);
  CHECK(c.metadata == std::map<std::string, std::string>{{"epoch", "3"}, {"writer", "numpy"}});
  REQUIRE(c.tensors.size() == 4);
  const Tensor& w = c.tensors.at("fc1/W");
  REQUIRE(w.type_str() == "f32 [3, 4]");
  for (std::size_t i = 0; i < 12; ++i) CHECK(w.data<float>()[i] == (static_cast<float>(i) - 5.0f) * 0.375f);
  const Tensor& b = c.tensors.at("fc1/b");
  REQUIRE(b.type_str() == "f64 [4]");
  for (std::size_t i = 0; i < 4; ++i) CHECK(b.data<double>()[i] == static_cast<double>(i) / 3.0);
  const Tensor& labels = c.tensors.at("labels");
  REQUIRE(labels.type_str() == "i32 [2, 2]");
  CHECK(labels.values() == std::vector<double>{-2147483648.0, 0, 7, 2147483647.0});
  const Tensor& step = c.tensors.at("step");
  REQUIRE(step.type_str() == "i32 []");
  CHECK(step.get(0) == 42);

  // Through a store, as training will: load, then save with kiln's metadata.
  ParamStore store;
  for (const auto& [name, t] : c.tensors) store.add(name, t.shape(), t.dtype());
  load_checkpoint_into(in, store);
  Tensor& extra = store.add("kiln/f64", Shape{2, 3}, DType::f64);
  for (std::size_t i = 0; i < 6; ++i) extra.data<double>()[i] = static_cast<double>(i) / 7.0;
  save_checkpoint(out, store, {{"writer", "kiln"}});
}
