#pragma once
#include <string>

#include "frontends/data/dataset.hpp"

namespace kiln::data {

// Where Debian's dataset-fashion-mnist package puts the four IDX files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Loads an MNIST-style pair of IDX files, each either raw or gzip-compressed
// (recognised by its first bytes 1f 8b, whatever its name): images with magic
// 0x00000803 (unsigned bytes, 3 dimensions: count, height, width) and labels
// with magic 0x00000801 (unsigned bytes, 1 dimension: count). features is
// height·width, pixel values stay 0..255 (scale() them explicitly), classes is
// max label + 1. Both headers, the counts and the sizes the headers imply are
// checked against each other and against the file size (for gzip, the
// uncompressed size its trailer records: single-member gzip only) before any
// buffer is allocated, so a corrupt header cannot cause a huge allocation.
Dataset load_idx(const std::string& images_path, const std::string& labels_path);

// Loads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
// and t10k-labels-idx1-ubyte from `dir`, each with or without a .gz suffix (the
// uncompressed one wins when both exist). Both halves get the same `classes`
// (the larger) and are named NAME/train and NAME/test.
Split load_mnist_dir(const std::string& dir, const std::string& name = "mnist");

// load_mnist_dir(dir, "fashion-mnist"); a missing directory gives an error that
// says how to install Debian's dataset-fashion-mnist package.
Split load_fashion_mnist(const std::string& dir = kFashionMnistDir);

}  // namespace kiln::data
