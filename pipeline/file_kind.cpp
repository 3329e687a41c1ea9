#include "pipeline/file_kind.h"

#include <array>

namespace framepipe {

namespace {

struct Signature {
  std::size_t offset;
  std::string_view bytes;
  FileCategory category;
  const char* format;
};

using namespace std::string_view_literals;

// Magic numbers of the containers and images libav and OpenCV read, and of common audio files.
constexpr std::array kSignatures = {
    Signature{4, "ftyp"sv, FileCategory::video, "MP4/MOV"},
    Signature{4, "moov"sv, FileCategory::video, "MOV"},
    Signature{4, "mdat"sv, FileCategory::video, "MOV"},
    Signature{0, "\x1a\x45\xdf\xa3"sv, FileCategory::video, "Matroska/WebM"},
    Signature{8, "AVI "sv, FileCategory::video, "AVI"},
    Signature{0, "FLV\x01"sv, FileCategory::video, "FLV"},
    Signature{0, "\x00\x00\x01\xba"sv, FileCategory::video, "MPEG-PS"},
    Signature{0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11"sv, FileCategory::video, "ASF/WMV"},
    Signature{0, "OggS"sv, FileCategory::video, "Ogg"},
    Signature{0, "\x89PNG\r\n\x1a\n"sv, FileCategory::image, "PNG"},
    Signature{0, "\xff\xd8\xff"sv, FileCategory::image, "JPEG"},
    Signature{0, "GIF8"sv, FileCategory::image, "GIF"},
    Signature{8, "WEBP"sv, FileCategory::image, "WebP"},
    Signature{0, "II*\x00"sv, FileCategory::image, "TIFF"},
    Signature{0, "MM\x00*"sv, FileCategory::image, "TIFF"},
    Signature{8, "WAVE"sv, FileCategory::audio, "WAV"},
    Signature{0, "ID3"sv, FileCategory::audio, "MP3"},
    Signature{0, "fLaC"sv, FileCategory::audio, "FLAC"},
};

// An MPEG transport stream: a sync byte every 188 bytes.
bool is_transport_stream(std::string_view head) {
  constexpr std::size_t kPacket = 188;
  if (head.size() < 2 * kPacket + 1) return false;
  return head[0] == 0x47 && head[kPacket] == 0x47 && head[2 * kPacket] == 0x47;
}

}  // namespace

BinaryKind binary_kind(std::string_view head) {
  for (const auto& signature : kSignatures) {
    if (head.substr(std::min(signature.offset, head.size()), signature.bytes.size()) ==
        signature.bytes) {
      return {signature.category, signature.format};
    }
  }
  if (is_transport_stream(head)) return {FileCategory::video, "MPEG-TS"};
  // YAML text never holds a NUL byte (nor UTF-16, which framepipe does not read).
  if (head.find('\0') != std::string_view::npos) return {FileCategory::binary, ""};
  return {};
}

}  // namespace framepipe
