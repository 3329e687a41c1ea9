#pragma once

// PNG and JPEG files for the sinks that save pictures (write_images, contact_sheet). Not
// cv::imwrite: libopencv_imgcodecs loads some 70 more shared libraries (GDAL, HDF5, Poppler…),
// which cost every framepipe process about 90 ms at start-up (bench/RESULTS.md).
#include <filesystem>
#include <opencv2/core.hpp>
#include <optional>
#include <vector>

namespace framepipe::stages::image_file {

enum class Format { png, jpeg };

// The format a file name's extension names (.png, .jpg, .jpeg, in any case), or nullopt.
std::optional<Format> format_of(const std::filesystem::path& path);

// `image` (8-bit gray or BGR) as a PNG at zlib level `setting` (0-9; libavcodec's encoder,
// filters chosen row by row as libpng does) or a JPEG of quality `setting` (0-100; libjpeg-turbo
// with the settings cv::imwrite uses, so the bytes are the same). Throws std::runtime_error
// with the cause.
std::vector<unsigned char> encode(const cv::Mat& image, Format format, int setting);

}  // namespace framepipe::stages::image_file
