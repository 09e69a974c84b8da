#include "runtime/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln {
namespace {

static_assert(std::endian::native == std::endian::little,
              "checkpoint data is copied as little-endian bytes; a big-endian host needs byte swapping here");

using json = nlohmann::json;

// The safetensors reference implementation refuses larger headers too: no
// real checkpoint needs 100 MB of JSON, and the header is read whole.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::size_t kLengthBytes = 8;
constexpr const char* kMetadataKey = "__metadata__";
// Messages quote at most this much of a hostile JSON value.
constexpr std::size_t kQuoteChars = 80;

struct DTypeCode {
  const char* code;
  DType dtype;
};
constexpr DTypeCode kDTypeCodes[] = {{"F32", DType::f32}, {"F64", DType::f64}, {"I32", DType::i32}};

const char* code_of(DType dtype) {
  for (const DTypeCode& c : kDTypeCodes)
    if (c.dtype == dtype) return c.code;
  return "?";
}

std::optional<DType> dtype_of_code(const std::string& code) {
  for (const DTypeCode& c : kDTypeCodes)
    if (code == c.code) return c.dtype;
  return std::nullopt;
}

std::string label(const std::string& path) { return "checkpoint '" + path + "'"; }

std::string os_reason(int error) { return std::error_code(error, std::system_category()).message(); }

std::string quote(const json& value) {
  std::string s = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > kQuoteChars) s = s.substr(0, kQuoteChars) + "...";
  return s;
}

std::string offsets_str(std::uint64_t begin, std::uint64_t end) {
  // Appending (not "[" + ...) sidesteps GCC 12's -Wrestrict false positive.
  std::string s(1, '[');
  s += std::to_string(begin);
  s += ", ";
  s += std::to_string(end);
  s += ']';
  return s;
}

// ---------------------------------------------------------------- writing

// A file created beside the checkpoint that is removed unless committed, so
// a failed save leaves no debris.
class TempFile {
 public:
  // `total` is the size the file will have, for error messages.
  TempFile(const std::string& final_path, std::uint64_t total) : final_path_(final_path), total_(total) {
    static std::atomic<unsigned> counter{0};
    path_ = final_path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0)
      throw Error("cannot save " + label(final_path) + ": cannot create the temporary file '" + path_ +
                  "': " + os_reason(errno));
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  void write_all(const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      // Linux writes at most ~2 GB per call; larger tensors take several.
      ssize_t w = ::write(fd_, p, std::min<std::size_t>(n, std::size_t{1} << 30));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) fail_write(w < 0 ? os_reason(errno) : "the device accepted no more bytes");
      p += w;
      n -= static_cast<std::size_t>(w);
      written_ += static_cast<std::uint64_t>(w);
    }
  }

  // fsync + close + rename over the final path: after this the checkpoint
  // holds either the old or the new bytes, never a mix.
  void commit() {
    if (::fsync(fd_) != 0) fail_step("flushing it to disk (fsync)");
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail_step("closing it");
    if (::rename(path_.c_str(), final_path_.c_str()) != 0) fail_step("renaming it over the checkpoint");
    committed_ = true;
  }

 private:
  [[noreturn]] void fail_write(const std::string& reason) const {
    throw Error("cannot save " + label(final_path_) + ": writing the temporary file '" + path_ + "' failed after " +
                std::to_string(written_) + " of " + std::to_string(total_) + " bytes: " + reason);
  }
  [[noreturn]] void fail_step(const char* step) const {
    const int error = errno;
    throw Error("cannot save " + label(final_path_) + ": " + step + " failed for the temporary file '" + path_ +
                "': " + os_reason(error));
  }

  std::string final_path_;
  std::string path_;
  std::uint64_t total_;
  int fd_ = -1;
  bool committed_ = false;
  std::uint64_t written_ = 0;
};

// The rename is durable only once the directory entry is on disk.
void sync_directory_of(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int error = 0;
  if (fd < 0) error = errno;
  else if (::fsync(fd) != 0) error = errno;
  if (fd >= 0) ::close(fd);
  // Some file systems cannot sync a directory; there is nothing more to do there.
  if (error != 0 && error != EINVAL && error != ENOTSUP)
    throw Error(label(path) + " was written, but syncing its directory '" + dir.string() +
                "' failed, so the rename may not survive a crash: " + os_reason(error));
}

void check_utf8(const std::string& path, const std::string& what, const std::string& text) {
  try {
    (void)json(text).dump();
  } catch (const json::type_error&) {
    throw Error("cannot save " + label(path) + ": " + what + " is not valid UTF-8");
  }
}

struct NamedTensor {
  const std::string* name;
  const Tensor* tensor;
};

// The JSON header, padded with spaces so the data starts 8-byte aligned as
// the reference writer does.
std::string encode_header(const std::string& path, const std::vector<NamedTensor>& tensors,
                          const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    auto& meta = header[kMetadataKey] = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) {
      check_utf8(path, "metadata key '" + key + "'", key);
      check_utf8(path, "the value of metadata key '" + key + "'", value);
      meta[key] = value;
    }
  }
  std::uint64_t offset = 0;
  for (const NamedTensor& t : tensors) {
    if (*t.name == kMetadataKey)
      throw Error("cannot save " + label(path) + ": a tensor may not be named '" + kMetadataKey +
                  "', the key safetensors reserves for metadata");
    check_utf8(path, "tensor name '" + *t.name + "'", *t.name);
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = code_of(t.tensor->dtype());
    entry["shape"] = t.tensor->shape().dims();
    const std::uint64_t end = offset + t.tensor->bytes();
    entry["data_offsets"] = {offset, end};
    header[*t.name] = std::move(entry);
    offset = end;
  }
  std::string text = header.dump();
  text.append((kLengthBytes - (kLengthBytes + text.size()) % kLengthBytes) % kLengthBytes, ' ');
  return text;
}

void save_tensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                  const std::map<std::string, std::string>& metadata) {
  const std::string header = encode_header(path, tensors, metadata);
  std::uint64_t total = kLengthBytes + header.size();
  for (const NamedTensor& t : tensors) total += t.tensor->bytes();

  TempFile tmp(path, total);
  unsigned char length[kLengthBytes];
  for (std::size_t b = 0; b < kLengthBytes; ++b) length[b] = static_cast<unsigned char>(header.size() >> (8 * b));
  tmp.write_all(length, kLengthBytes);
  tmp.write_all(header.data(), header.size());
  for (const NamedTensor& t : tensors) tmp.write_all(t.tensor->raw(), t.tensor->bytes());
  tmp.commit();
  sync_directory_of(path);
}

// ---------------------------------------------------------------- reading

class CheckpointFile {
 public:
  explicit CheckpointFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(label(path) + ": cannot open it for reading: " + os_reason(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int error = errno;
      ::close(fd_);
      throw Error(label(path) + ": cannot read its size: " + os_reason(error));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      fail("a regular file", S_ISDIR(st.st_mode) ? "a directory" : "another kind of file");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  CheckpointFile(const CheckpointFile&) = delete;
  CheckpointFile& operator=(const CheckpointFile&) = delete;
  ~CheckpointFile() { ::close(fd_); }

  std::uint64_t size() const { return size_; }

  void read_at(std::uint64_t offset, void* dst, std::size_t n, const std::string& what) const {
    char* p = static_cast<char*>(dst);
    std::size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, p + done, std::min<std::size_t>(n - done, std::size_t{1} << 30),
                          static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw Error(label(path_) + ": reading " + what + " failed: " + os_reason(errno));
      if (r == 0)
        fail(std::to_string(n) + " bytes of " + what + " at byte " + std::to_string(offset),
             "the end of the file after " + std::to_string(done) + " (it shrank while being read)");
      done += static_cast<std::size_t>(r);
    }
  }

  [[noreturn]] void fail(const std::string& expected, const std::string& found) const {
    throw Error(label(path_) + ": expected " + expected + ", found " + found);
  }
  [[noreturn]] void fail_tensor(const std::string& name, const std::string& expected,
                                const std::string& found) const {
    throw Error(label(path_) + ": tensor '" + name + "': expected " + expected + ", found " + found);
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// One tensor as the header describes it, validated but not yet read.
struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin = 0, end = 0;  // relative to the data section
};

// nlohmann keeps the last of two equal keys; a checkpoint naming a tensor
// twice is ambiguous, so the parse callback refuses any repeated key.
json parse_header(const CheckpointFile& file, const std::string& text) {
  struct Open {
    std::string owner;
    std::set<std::string> keys;
  };
  std::vector<Open> open;
  std::string last_key;
  auto refuse_duplicates = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open.push_back({open.empty() ? std::string() : last_key, {}});
    } else if (event == json::parse_event_t::object_end) {
      open.pop_back();
    } else if (event == json::parse_event_t::key) {
      last_key = parsed.get<std::string>();
      if (!open.back().keys.insert(last_key).second) {
        if (open.size() == 1) file.fail("each tensor named once in the header", "'" + last_key + "' twice");
        file.fail("each key once in the header entry '" + open.back().owner + "'", "'" + last_key + "' twice");
      }
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text, refuse_duplicates);
  } catch (const json::exception& e) {
    file.fail("a JSON header", "invalid JSON: " + std::string(e.what()));
  }
  if (!header.is_object()) file.fail("a JSON object as the header", quote(header));
  return header;
}

std::map<std::string, std::string> parse_metadata(const CheckpointFile& file, const json& meta) {
  if (!meta.is_object())
    file.fail("'" + std::string(kMetadataKey) + "' to be an object of strings", quote(meta));
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : meta.items()) {
    if (!value.is_string())
      file.fail("string values in '" + std::string(kMetadataKey) + "'", "'" + key + "': " + quote(value));
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

const json& field(const CheckpointFile& file, const std::string& name, const json& entry, const char* key) {
  auto it = entry.find(key);
  if (it == entry.end()) file.fail_tensor(name, std::string("a '") + key + "' field", "none");
  return *it;
}

// Everything about one tensor that can be checked without the others. The
// sizes come from the shape and are compared with the file before anything
// is allocated for them.
Entry parse_entry(const CheckpointFile& file, const std::string& name, const json& value,
                  std::uint64_t data_size) {
  if (!value.is_object())
    file.fail_tensor(name, "an object with 'dtype', 'shape' and 'data_offsets'", quote(value));
  for (const auto& [key, unused] : value.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      file.fail_tensor(name, "only the fields 'dtype', 'shape' and 'data_offsets'", "'" + key + "'");

  Entry e;
  e.name = name;
  const json& dtype = field(file, name, value, "dtype");
  std::optional<DType> parsed = dtype.is_string() ? dtype_of_code(dtype.get<std::string>()) : std::nullopt;
  if (!parsed) file.fail_tensor(name, "dtype \"F32\", \"F64\" or \"I32\"", quote(dtype));
  e.dtype = *parsed;

  const json& shape = field(file, name, value, "shape");
  if (!shape.is_array()) file.fail_tensor(name, "a shape that is a list of non-negative integers", quote(shape));
  std::vector<std::int64_t> dims;
  std::uint64_t numel = 1;
  bool overflow = false;
  for (const json& d : shape) {
    if (!d.is_number_unsigned())
      file.fail_tensor(name, "a shape that is a list of non-negative integers", quote(shape));
    const std::uint64_t n = d.get<std::uint64_t>();
    if (n == 0)
      file.fail_tensor(name, "positive dimensions (kiln has no empty tensors)", "the shape " + quote(shape));
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
        numel > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / n)
      overflow = true;
    else numel *= n;
    dims.push_back(overflow ? 0 : static_cast<std::int64_t>(n));
  }
  if (overflow) file.fail_tensor(name, "a shape whose element count fits in 64 bits", quote(shape));
  e.shape = Shape(std::move(dims));
  const std::uint64_t item = dtype_size(e.dtype);
  if (numel > std::numeric_limits<std::uint64_t>::max() / item)
    file.fail_tensor(name, "a tensor whose size in bytes fits in 64 bits",
                     std::string(code_of(e.dtype)) + " " + e.shape.str());
  const std::uint64_t bytes = numel * item;

  const json& offsets = field(file, name, value, "data_offsets");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    file.fail_tensor(name, "data_offsets [begin, end] of two non-negative integers", quote(offsets));
  e.begin = offsets[0].get<std::uint64_t>();
  e.end = offsets[1].get<std::uint64_t>();
  if (e.begin > e.end) file.fail_tensor(name, "data_offsets [begin, end] with begin <= end", quote(offsets));
  const std::string type = std::string(code_of(e.dtype)) + " " + e.shape.str();
  if (e.end - e.begin != bytes)
    file.fail_tensor(name,
                     "data_offsets spanning " + std::to_string(bytes) + " bytes (" + type + ": " +
                         std::to_string(numel) + " x " + std::to_string(item) + " bytes)",
                     offsets_str(e.begin, e.end) + " (" + std::to_string(e.end - e.begin) + " bytes)");
  if (e.end > data_size)
    file.fail_tensor(name, "data_offsets within the data section of " + std::to_string(data_size) + " bytes",
                     offsets_str(e.begin, e.end) + ": the file is truncated or the offsets are wrong");
  return e;
}

// The tensors must tile the data section exactly: any gap or overlap means
// the header and the data disagree.
void check_tiling(const CheckpointFile& file, std::vector<Entry>& entries, std::uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  std::uint64_t expected_begin = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    const std::string where = previous ? "right after tensor '" + previous->name + "'" : "at the start of the data";
    if (e.begin > expected_begin)
      file.fail_tensor(e.name, "to start at byte " + std::to_string(expected_begin) + " " + where,
                       offsets_str(e.begin, e.end) + ": a gap of " + std::to_string(e.begin - expected_begin) +
                           " bytes");
    if (e.begin < expected_begin)
      file.fail_tensor(e.name, "to start at byte " + std::to_string(expected_begin) + " " + where,
                       offsets_str(e.begin, e.end) + ": it overlaps '" + previous->name + "' by " +
                           std::to_string(expected_begin - e.begin) + " bytes");
    expected_begin = e.end;
    previous = &e;
  }
  if (expected_begin != data_size)
    file.fail("tensors covering the whole data section of " + std::to_string(data_size) + " bytes",
              std::to_string(data_size - expected_begin) + " trailing bytes after " +
                  (previous ? "the last tensor '" + previous->name + "'" : std::string("an empty header")));
}

std::string dims_str(const Shape& shape, DType dtype, DType other) {
  return dtype == other ? shape.str() : type_str(shape, dtype);
}

// Long lists are cut so the error stays one readable line.
constexpr std::size_t kMaxListed = 20;

void append_list(std::string& report, const std::string& heading, const std::vector<std::string>& items,
                 const char* separator) {
  if (items.empty()) return;
  if (!report.empty()) report += "; ";
  for (std::size_t i = 0; i < items.size() && i < kMaxListed; ++i) {
    if (i > 0) report += separator;
    if (!heading.empty() && i == 0) report += heading + " ";
    report += items[i];
  }
  if (items.size() > kMaxListed) report += " and " + std::to_string(items.size() - kMaxListed) + " more";
}

}  // namespace

void save_checkpoint(const std::string& path, const ParamStore& params,
                     const std::map<std::string, std::string>& metadata) {
  const std::vector<std::string> names = params.names();
  std::vector<NamedTensor> tensors;
  tensors.reserve(names.size());
  for (const std::string& name : names) tensors.push_back({&name, &params.get(name)});
  save_tensors(path, tensors, metadata);
}

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  std::vector<NamedTensor> tensors;
  tensors.reserve(checkpoint.tensors.size());
  for (const auto& [name, tensor] : checkpoint.tensors) tensors.push_back({&name, &tensor});
  save_tensors(path, tensors, checkpoint.metadata);
}

Checkpoint read_checkpoint(const std::string& path) {
  CheckpointFile file(path);
  if (file.size() < kLengthBytes)
    file.fail("at least 8 bytes (the little-endian header length)", std::to_string(file.size()) + " bytes");
  unsigned char length[kLengthBytes];
  file.read_at(0, length, kLengthBytes, "the header length");
  std::uint64_t header_bytes = 0;
  for (std::size_t b = 0; b < kLengthBytes; ++b) header_bytes |= std::uint64_t{length[b]} << (8 * b);
  if (header_bytes > kMaxHeaderBytes)
    file.fail("a header length of at most " + std::to_string(kMaxHeaderBytes) + " bytes",
              std::to_string(header_bytes) + ": not a safetensors file, or a corrupt one");
  if (header_bytes > file.size() - kLengthBytes)
    file.fail("a header of " + std::to_string(header_bytes) + " bytes",
              "only " + std::to_string(file.size() - kLengthBytes) + " bytes after the length: the file is truncated");

  std::string text(header_bytes, '\0');
  file.read_at(kLengthBytes, text.data(), text.size(), "the header");
  const json header = parse_header(file, text);
  const std::uint64_t data_start = kLengthBytes + header_bytes;
  const std::uint64_t data_size = file.size() - data_start;

  Checkpoint checkpoint;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) checkpoint.metadata = parse_metadata(file, value);
    else entries.push_back(parse_entry(file, name, value, data_size));
  }
  check_tiling(file, entries, data_size);

  // Every size now agrees with the file, so the allocations below are bounded
  // by what is on disk.
  for (const Entry& e : entries) {
    Tensor t(e.shape, e.dtype);
    file.read_at(data_start + e.begin, t.raw(), t.bytes(), "tensor '" + e.name + "'");
    checkpoint.tensors.emplace(e.name, std::move(t));
  }
  return checkpoint;
}

void load_checkpoint_into(const std::string& path, ParamStore& params) {
  Checkpoint checkpoint = read_checkpoint(path);
  std::vector<std::string> missing, unexpected, mismatched;
  for (const std::string& name : params.names()) {
    const Tensor& want = params.get(name);
    auto it = checkpoint.tensors.find(name);
    if (it == checkpoint.tensors.end()) {
      missing.push_back(name + " " + want.shape().str());
      continue;
    }
    const Tensor& found = it->second;
    if (found.shape() != want.shape() || found.dtype() != want.dtype())
      mismatched.push_back(name + " is " + dims_str(found.shape(), found.dtype(), want.dtype()) + " in the file, " +
                           dims_str(want.shape(), want.dtype(), found.dtype()) + " in the model");
  }
  for (const auto& [name, tensor] : checkpoint.tensors)
    if (!params.contains(name)) unexpected.push_back(name + " " + tensor.shape().str());

  std::string report;
  append_list(report, "missing", missing, ", ");
  append_list(report, "unexpected", unexpected, ", ");
  append_list(report, "", mismatched, "; ");
  if (!report.empty()) throw Error(label(path) + " does not match the model: " + report);

  for (auto& [name, tensor] : checkpoint.tensors) params.set(name, tensor);
}

}  // namespace kiln
