#include "stages/io/yuv_gray.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/core/hal/intrin.hpp>
#include <vector>

extern "C" {
#include <libavutil/common.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include "stages/io/byte_table.h"

namespace framepipe::stages {

namespace {

// cv::COLOR_BGR2GRAY's weights.
constexpr double kRed = 0.299, kGreen = 0.587, kBlue = 0.114;
// Sums are kept in 1/64 of a gray level, in 16 bits: enough for the largest (about 22000).
constexpr int kShift = 6;
constexpr double kUnit = 1 << kShift;

// One row of gray: clamp((luma × gain + chroma term) >> kShift), the luma product taken as the
// high half of (Y << 8) × gain, the same in the vector loop and the scalar tail, so both give
// the same bytes. `term` holds one value per chroma column (chroma offset, luma offset and
// rounding folded in).
void gray_row(const std::uint8_t* y, const std::int16_t* term, int chroma_w_shift,
              std::uint16_t gain, int width, std::uint8_t* out) {
  int x = 0;
#if CV_SIMD128
  if (chroma_w_shift <= 1) {
    const cv::v_uint16x8 gain_v = cv::v_setall_u16(gain);
    auto luma = [&](const cv::v_uint16x8& y16) {
      return cv::v_reinterpret_as_s16(cv::v_mul_hi(y16 << 8, gain_v));
    };
    for (; x + 16 <= width; x += 16) {
      cv::v_uint16x8 y_lo, y_hi;
      cv::v_expand(cv::v_load(y + x), y_lo, y_hi);
      cv::v_int16x8 t_lo, t_hi;
      if (chroma_w_shift == 1) {
        const auto t = cv::v_load(term + x / 2);
        cv::v_zip(t, t, t_lo, t_hi);
      } else {
        t_lo = cv::v_load(term + x);
        t_hi = cv::v_load(term + x + 8);
      }
      cv::v_store(out + x,
                  cv::v_pack_u((luma(y_lo) + t_lo) >> kShift, (luma(y_hi) + t_hi) >> kShift));
    }
  }
#endif
  for (; x < width; ++x) {
    const int sum = ((y[x] << 8) * gain >> 16) + term[x >> chroma_w_shift];
    out[x] = static_cast<std::uint8_t>(std::clamp(sum >> kShift, 0, 255));
  }
}

bool yuv_8bit(const AVPixFmtDescriptor* desc) {
  if (!desc || desc->nb_components < 3 ||
      (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BE))) {
    return false;
  }
  for (int c = 0; c < 3; ++c) {
    if (desc->comp[c].depth != 8 || desc->comp[c].shift != 0) return false;
  }
  return desc->comp[0].step == 1;
}

const std::uint8_t* plane_row(const AVFrame& frame, const AVComponentDescriptor& comp, int row) {
  return frame.data[comp.plane] + static_cast<std::ptrdiff_t>(row) * frame.linesize[comp.plane] +
         comp.offset;
}

// Full-range luma as BGR2GRAY sees a colourless picture: limited range stretched.
cv::Mat stretched_luma(const cv::Mat& luma, bool full_range) {
  if (full_range) return luma.clone();
  static const ByteTable stretch = [] {
    cv::Mat table(1, 256, CV_8UC1);
    for (int y = 0; y < 256; ++y) {
      table.at<uchar>(y) = cv::saturate_cast<uchar>((y - 16) * 255.0 / 219.0);
    }
    return ByteTable(table);
  }();
  cv::Mat gray;
  stretch.apply(luma, gray);
  return gray;
}

}  // namespace

cv::Mat gray_from_yuv(const AVFrame& frame, AVPixelFormat format, bool full_range) {
  const auto* desc = av_pix_fmt_desc_get(format);
  if (!yuv_8bit(desc)) return {};
  const auto& y_comp = desc->comp[0];
  const cv::Mat luma(frame.height, frame.width, CV_8UC1,
                     const_cast<std::uint8_t*>(plane_row(frame, y_comp, 0)),
                     static_cast<std::size_t>(frame.linesize[y_comp.plane]));

  // swscale's YUV->RGB coefficients for the picture's matrix, as the BGR conversion uses them:
  // Cr->R, Cb->B, Cb->G, Cr->G, in 1/65536 per limited-range chroma step.
  const int* coefficients = sws_getCoefficients(frame.colorspace);
  const double chroma_scale = (full_range ? 224.0 / 255.0 : 1.0) / 65536.0;
  const double cb_weight = (kBlue * coefficients[1] - kGreen * coefficients[2]) * chroma_scale;
  const double cr_weight = (kRed * coefficients[0] - kGreen * coefficients[3]) * chroma_scale;
  // BT.601's luma is BGR2GRAY's: chroma adds nothing (|weight| < 1e-5 with swscale's integers).
  if (std::abs(cb_weight) + std::abs(cr_weight) < 1e-3) return stretched_luma(luma, full_range);

  const double luma_scale = full_range ? 1.0 : 255.0 / 219.0;
  const auto gain = static_cast<std::uint16_t>(std::lround(luma_scale * kUnit * 256));
  std::array<int, 256> cb_term{}, cr_term{};
  for (int v = 0; v < 256; ++v) {
    cb_term[v] = static_cast<int>(std::lround(cb_weight * (v - 128) * kUnit));
    cr_term[v] = static_cast<int>(std::lround(cr_weight * (v - 128) * kUnit));
  }
  const int base = static_cast<int>(std::lround((full_range ? 0 : -16 * luma_scale) * kUnit)) +
                   (1 << (kShift - 1));

  const auto& cb_comp = desc->comp[1];
  const auto& cr_comp = desc->comp[2];
  const int chroma_width = AV_CEIL_RSHIFT(frame.width, desc->log2_chroma_w);
  cv::Mat gray(frame.height, frame.width, CV_8UC1);
  // One chroma row's terms serve every luma row it covers (nearest chroma sample, as swscale's
  // unscaled conversion takes it).
  std::vector<std::int16_t> term(static_cast<std::size_t>(chroma_width));
  int chroma_row = -1;
  for (int row = 0; row < frame.height; ++row) {
    if (row >> desc->log2_chroma_h != chroma_row) {
      chroma_row = row >> desc->log2_chroma_h;
      const auto* cb = plane_row(frame, cb_comp, chroma_row);
      const auto* cr = plane_row(frame, cr_comp, chroma_row);
      for (int c = 0; c < chroma_width; ++c) {
        term[static_cast<std::size_t>(c)] = static_cast<std::int16_t>(
            base + cb_term[cb[c * cb_comp.step]] + cr_term[cr[c * cr_comp.step]]);
      }
    }
    gray_row(luma.ptr<std::uint8_t>(row), term.data(), desc->log2_chroma_w, gain, frame.width,
             gray.ptr<std::uint8_t>(row));
  }
  return gray;
}

}  // namespace framepipe::stages
