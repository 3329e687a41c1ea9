#pragma once

#include <cstdint>
#include <functional>
#include <opencv2/core.hpp>
#include <optional>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
}

#include "stages/io/byte_table.h"

namespace framepipe::stages {

// A gray frame as a planar 8-bit YUV picture, made the way swscale makes it (GRAY8 -> yuv420p,
// yuv444p, yuvj420p …) but without its general scaler: the luma plane is the gray through a
// table of what swscale gives each level (limited range: 16 + gray × 219/255, rounded as it
// rounds; full range: the gray itself), the chroma planes one neutral value. The table is
// learnt from swscale itself, on a ramp of every level, so the bytes are swscale's.
class GrayToYuv {
 public:
  // Makes an swscale context converting GRAY8 of the given size to the picture's format, set up
  // as the encoder sets up its own.
  using MakeScaler = std::function<SwsContext*(cv::Size size)>;

  // The conversion into `format`; unusable() when `format` is not planar 8-bit YUV, or when
  // swscale's output for a level is not one value wherever the level stands (then the caller
  // keeps using swscale).
  GrayToYuv(AVPixelFormat format, const MakeScaler& make_scaler);
  bool usable() const { return luma_.has_value(); }

  // `gray`, padded by repeating its last `padded` columns and rows, into `picture` (allocated
  // in the format, at least gray's size plus `padded`).
  void convert(const cv::Mat& gray, cv::Size padded, AVFrame& picture) const;

 private:
  std::optional<ByteTable> luma_;  // of 256 levels
  std::uint8_t chroma_ = 128;
  int log2_chroma_w_ = 0;
  int log2_chroma_h_ = 0;
};

}  // namespace framepipe::stages
