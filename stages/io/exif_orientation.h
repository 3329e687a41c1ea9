#pragma once

// The EXIF Orientation of a JPEG (its APP1 "Exif" segment, tag 0x0112 of IFD0) and the turn
// or flip that shows the picture upright, as cv::imread applies it.
#include <cstddef>
#include <opencv2/core.hpp>

namespace framepipe::stages::exif {

// 1..8 as the tag gives it; 1 (as stored) when the file has no EXIF, no such tag, or one that
// cannot be read. Reads only inside `data`, whatever its bytes.
int jpeg_orientation(const unsigned char* data, std::size_t size);

// `image` as it shows upright under `orientation` (1..8; anything else leaves it as it is):
// the flips and transposition cv::imread makes.
cv::Mat upright(const cv::Mat& image, int orientation);

}  // namespace framepipe::stages::exif
