// libFuzzer target: arbitrary bytes as a YAML config (and --set overrides), loaded and validated.
#include <cstddef>
#include <cstdint>

#include "fuzz/entry_points.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  framepipe::fuzz::load_config(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
