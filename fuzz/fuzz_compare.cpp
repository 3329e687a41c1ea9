// libFuzzer target: arbitrary bytes as two report.json files, through `report compare` and
// `report show`.
#include <cstddef>
#include <cstdint>

#include "fuzz/entry_points.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  framepipe::fuzz::compare_reports(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
