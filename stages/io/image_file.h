#pragma once

// Image files for the sinks that save pictures (write_images, contact_sheet), and JPEG files
// read for decode. Not cv::imwrite / cv::imread: libopencv_imgcodecs loads some 70 more shared
// libraries (GDAL, HDF5, Poppler…), which cost every framepipe process about 90 ms at start-up
// (bench/RESULTS.md).
#include <cstddef>
#include <filesystem>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace framepipe::stages::image_file {

enum class Format { png, jpeg, bmp, tiff, webp };

// The format a file name's extension names (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp, in any
// case), or nullopt.
std::optional<Format> format_of(const std::filesystem::path& path);
// The extensions format_of knows, for messages: ".png, .jpg, .jpeg, .bmp, .tif, .tiff or .webp".
std::string extensions_text();

// `image` (8-bit gray or BGR) as a PNG at zlib level `setting` (0-9; libavcodec's encoder,
// filters chosen row by row as libpng does), a JPEG of quality `setting` (0-100; libjpeg-turbo
// with the settings cv::imwrite uses, so the bytes are the same), a WebP of quality `setting`
// (0-100, lossy; libavcodec's libwebp encoder), or a BMP or TIFF (uncompressed; `setting`
// unused). Throws std::runtime_error with the cause.
std::vector<unsigned char> encode(const cv::Mat& image, Format format, int setting);

// Whether `bytes` start as a JPEG does (the SOI marker and the next marker's 0xFF).
bool is_jpeg(const unsigned char* bytes, std::size_t size);

// A JPEG's picture size as stored, from its header. Throws std::runtime_error with
// libjpeg-turbo's cause.
cv::Size jpeg_size(const unsigned char* bytes, std::size_t size);

// A JPEG decoded to 8-bit BGR, as stored (not turned by its EXIF orientation), by libjpeg-turbo
// with the settings cv::imread uses (accurate DCT, smooth chroma upsampling), so the pixels are
// the same. Throws std::runtime_error with the cause, also for damage libjpeg only warns about
// (a truncated file, corrupt data), which cv::imread would fill in with gray.
cv::Mat decode_jpeg(const unsigned char* bytes, std::size_t size);

}  // namespace framepipe::stages::image_file
