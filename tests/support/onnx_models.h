#pragma once

#include <filesystem>
#include <string>

#include "tests/support/media.h"

namespace framepipe::testing {

// The tiny ONNX models and expected outputs that tests/support/make_onnx_models.py writes (once,
// into the fixtures folder): classifier.onnx, detector.onnx, labels.txt, ...
inline std::filesystem::path onnx_models() {
  const auto dir = fixture_dir() / "onnx-models";
  if (!std::filesystem::exists(dir)) {
    capture("/usr/bin/python3 " +
            shell_quote(std::string(FRAMEPIPE_SOURCE_DIR) + "/tests/support/make_onnx_models.py") +
            " " + shell_quote(dir.string()));
  }
  return dir;
}

}  // namespace framepipe::testing
