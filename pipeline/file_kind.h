#pragma once

// What a file meant to be text (a config) is when its first bytes say it is not: a video given
// where the config goes (`framepipe run clip.mp4`) is named as one instead of failing as YAML.
#include <string>
#include <string_view>

namespace framepipe {

// text: it may be text (no known signature, no NUL byte).
enum class FileCategory { text, video, image, audio, binary };

struct BinaryKind {
  FileCategory category = FileCategory::text;
  std::string format;  // "MP4/MOV", "PNG", ...; empty for a binary file of no known format
};

// From the first bytes of a file (a few hundred are enough).
BinaryKind binary_kind(std::string_view head);

}  // namespace framepipe
