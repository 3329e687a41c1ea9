#pragma once

#include <opencv2/core.hpp>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

namespace framepipe::stages {

// The gray cv::cvtColor(BGR2GRAY) gives of an 8-bit YUV picture's BGR conversion, computed from
// its planes without making the BGR picture: the luma plane (stretched to full range when
// limited) plus the share of Cb and Cr that BGR2GRAY's weights give under the picture's matrix,
// which is none for BT.601 and untagged pictures. `format` is the frame's pixel format with the
// full-range "J" formats named as their plain twins. Empty when there is no such shortcut (not
// 8-bit YUV). It differs from the way through BGR by rounding, and where YUV values outside the
// RGB cube make the BGR picture clip.
cv::Mat gray_from_yuv(const AVFrame& frame, AVPixelFormat format, bool full_range);

}  // namespace framepipe::stages
