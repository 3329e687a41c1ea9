#pragma once

// JPEG fixtures with an EXIF Orientation tag: the ffmpeg CLI writes no EXIF, and exiftool is
// not a dependency, so the APP1 segment is written here, by the EXIF/TIFF layout.
#include <string>

namespace framepipe::testing {

// `jpeg` (a whole JPEG file's bytes) with an APP1 "Exif" segment right after its SOI marker whose
// IFD0 holds one entry: Orientation (0x0112, SHORT) = `orientation`. `big_endian` picks the TIFF
// byte order ("MM" or "II"); readers must handle both.
std::string with_exif_orientation(const std::string& jpeg, int orientation, bool big_endian);

}  // namespace framepipe::testing
