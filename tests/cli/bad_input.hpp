#pragma once
// Bytes of hostile and malformed input files, built by hand (not by kiln's
// own writers) for tests/cli/bad_input_test.cpp.
#include <cstdint>
#include <initializer_list>
#include <string>

namespace kiln::test::bad {

// A .npy file: magic, version 1.0, the dictionary padded to 64 bytes, then
// `data`.
inline std::string npy(const std::string& dict, const std::string& data = {}) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

inline std::string f32_bytes(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

inline std::string i32_bytes(std::initializer_list<std::int32_t> values) {
  std::string out;
  for (std::int32_t v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

inline std::string be32(std::uint32_t v) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
  return out;
}

// An IDX images file with the given header and `payload` bytes of pixels.
inline std::string idx_images(std::uint32_t count, std::uint32_t height, std::uint32_t width, std::size_t payload) {
  return be32(0x803) + be32(count) + be32(height) + be32(width) + std::string(payload, '\x07');
}

inline std::string idx_labels(std::uint32_t count, std::size_t payload) {
  return be32(0x801) + be32(count) + std::string(payload, '\x01');
}

// A safetensors file: 8-byte little-endian length, the JSON header, `data`.
inline std::string safetensors(const std::string& header, const std::string& data = {}) {
  std::string out;
  std::uint64_t n = header.size();
  for (int b = 0; b < 8; ++b) out += static_cast<char>((n >> (8 * b)) & 0xff);
  return out + header + data;
}

}  // namespace kiln::test::bad
