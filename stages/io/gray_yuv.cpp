#include "stages/io/gray_yuv.h"

#include <cstring>
#include <memory>
#include <opencv2/core.hpp>

extern "C" {
#include <libavutil/common.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

#include "stages/io/libav_error.h"

namespace framepipe::stages {

namespace {

// Three 8-bit components in three planes, nothing else (no alpha, no big-endian words).
bool planar_yuv_8bit(const AVPixFmtDescriptor* desc) {
  if (!desc || desc->nb_components != 3 ||
      (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BE |
                      AV_PIX_FMT_FLAG_BITSTREAM)) ||
      !(desc->flags & AV_PIX_FMT_FLAG_PLANAR)) {
    return false;
  }
  for (int c = 0; c < 3; ++c) {
    const auto& comp = desc->comp[c];
    if (comp.plane != c || comp.depth != 8 || comp.step != 1 || comp.shift != 0) return false;
  }
  return true;
}

}  // namespace

GrayToYuv::GrayToYuv(AVPixelFormat format, const MakeScaler& make_scaler) {
  const auto* desc = av_pix_fmt_desc_get(format);
  if (!planar_yuv_8bit(desc)) return;
  log2_chroma_w_ = desc->log2_chroma_w;
  log2_chroma_h_ = desc->log2_chroma_h;
  // Every level twice, rising then falling, on as many rows as one chroma row covers.
  const cv::Size size(512, 1 << log2_chroma_h_);
  cv::Mat ramp(size, CV_8UC1);
  for (int row = 0; row < size.height; ++row) {
    for (int x = 0; x < size.width; ++x) ramp.at<std::uint8_t>(row, x) = x < 256 ? x : 511 - x;
  }
  std::unique_ptr<SwsContext, libav::SwsDeleter> sws(make_scaler(size));
  std::unique_ptr<AVFrame, libav::FrameDeleter> picture(av_frame_alloc());
  if (!sws || !picture) return;
  picture->format = format;
  picture->width = size.width;
  picture->height = size.height;
  if (av_frame_get_buffer(picture.get(), 64) < 0) return;
  const std::uint8_t* src[4] = {ramp.data, nullptr, nullptr, nullptr};
  const int src_stride[4] = {static_cast<int>(ramp.step), 0, 0, 0};
  sws_scale(sws.get(), src, src_stride, 0, size.height, picture->data, picture->linesize);

  cv::Mat table(1, 256, CV_8UC1);
  for (int row = 0; row < size.height; ++row) {
    const std::uint8_t* y = picture->data[0] + row * picture->linesize[0];
    for (int x = 0; x < size.width; ++x) {
      const int level = ramp.at<std::uint8_t>(row, x);
      if (row == 0 && x < 256) {
        table.at<std::uint8_t>(level) = y[x];
      } else if (table.at<std::uint8_t>(level) != y[x]) {
        return;
      }
    }
  }
  const std::uint8_t chroma = picture->data[1][0];
  for (int plane = 1; plane < 3; ++plane) {
    for (int row = 0; row < AV_CEIL_RSHIFT(size.height, log2_chroma_h_); ++row) {
      const std::uint8_t* c = picture->data[plane] + row * picture->linesize[plane];
      for (int x = 0; x < AV_CEIL_RSHIFT(size.width, log2_chroma_w_); ++x) {
        if (c[x] != chroma) return;
      }
    }
  }
  chroma_ = chroma;
  luma_.emplace(table);
}

void GrayToYuv::convert(const cv::Mat& gray, cv::Size padded, AVFrame& picture) const {
  const cv::Size size = gray.size() + padded;
  cv::Mat luma(size, CV_8UC1, picture.data[0], static_cast<std::size_t>(picture.linesize[0]));
  cv::Mat inside = luma(cv::Rect(cv::Point(), gray.size()));
  luma_->apply(gray, inside);
  // Padding repeats the last column, then the last row (which then holds the padded corner).
  for (int x = gray.cols; x < size.width; ++x) luma.col(gray.cols - 1).copyTo(luma.col(x));
  for (int y = gray.rows; y < size.height; ++y) luma.row(gray.rows - 1).copyTo(luma.row(y));
  const int chroma_width = AV_CEIL_RSHIFT(size.width, log2_chroma_w_);
  const int chroma_height = AV_CEIL_RSHIFT(size.height, log2_chroma_h_);
  for (int plane = 1; plane < 3; ++plane) {
    for (int row = 0; row < chroma_height; ++row) {
      std::memset(picture.data[plane] + static_cast<std::ptrdiff_t>(row) * picture.linesize[plane],
                  chroma_, static_cast<std::size_t>(chroma_width));
    }
  }
}

}  // namespace framepipe::stages
