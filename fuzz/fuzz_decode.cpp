// libFuzzer target: arbitrary bytes as a media file, demuxed, decoded and converted to BGR by the
// decode stage. The bytes go to a temporary file: the stage opens media by path, as in a run.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "fuzz/entry_points.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto path = std::filesystem::temp_directory_path() /
                           ("framepipe-fuzz-decode-" + std::to_string(getpid()) + ".bin");
  {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  framepipe::fuzz::decode_file(path);
  return 0;
}
