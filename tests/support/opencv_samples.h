#pragma once

#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "tests/support/media.h"

namespace framepipe::testing {

// A file from OpenCV's sample data (Debian package opencv-doc): vtest.avi, messi5.jpg, ...
// Debian compresses some documentation files; those are unpacked once into the fixtures folder.
inline std::filesystem::path opencv_sample(const std::string& name) {
  const std::filesystem::path dir = "/usr/share/doc/opencv-doc/examples/data";
  if (std::filesystem::exists(dir / name)) return dir / name;
  const auto packed = dir / (name + ".gz");
  if (!std::filesystem::exists(packed)) {
    throw std::runtime_error("no " + (dir / name).string() +
                             ": install Debian's opencv-doc (scripts/install-deps.sh)");
  }
  const auto unpacked = fixture_dir() / name;
  if (!std::filesystem::exists(unpacked)) {
    const auto partial = fixture_dir() / ("partial-" + std::to_string(getpid()) + "-" + name);
    capture("gzip -dc " + shell_quote(packed.string()) + " > " + shell_quote(partial.string()));
    std::filesystem::rename(partial, unpacked);
  }
  return unpacked;
}

}  // namespace framepipe::testing
