#include "stages/vision/canny_l1.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <opencv2/core/hal/intrin.hpp>
#include <vector>

namespace framepipe::stages {

namespace {

using cv::v_int16x8;
using cv::v_uint16x8;
using cv::v_uint8x16;

constexpr int kBlock = 16;  // pixels per step: two v_int16x8, one v_uint8x16
// A 3×3 Sobel's L1 norm never exceeds 2 · 4 · 255 = 2040: any threshold above this one keeps the
// same pixels, and the clamped thresholds fit the 16-bit lanes.
constexpr double kNormBound = 4096;
// tan(22.5°) in 1/32768ths, rounded as cv::Canny rounds it.
constexpr std::int16_t kTan22 = 13573;

// A row of 16-bit values readable a block before and after the image's columns.
class PaddedRow {
 public:
  void fit(int padded_cols) {
    values_.assign(static_cast<std::size_t>(padded_cols + 2 * kBlock), 0);
  }
  std::int16_t* at0() { return values_.data() + kBlock; }
  const std::int16_t* at0() const { return values_.data() + kBlock; }

 private:
  std::vector<std::int16_t> values_;
};

struct GradientRow {
  PaddedRow dx, dy, norm;  // norm = |dx| + |dy|, 0 outside the image
};

// What one thread reuses from frame to frame: the rows being worked on and the map of
// (rows + 2) × stride bytes, 0 on its border, where each pixel is 0 (no edge), 1 (a candidate:
// a local maximum above the low threshold) or 2 (an edge).
struct Scratch {
  int rows = -1;
  int cols = -1;
  int padded_cols = 0;  // cols rounded up to a whole block
  std::ptrdiff_t stride = 0;
  int channels = 0;
  std::array<PaddedRow, 3> smooth;  // per channel, the [1 2 1] vertical sums of one row, for dx
  std::array<PaddedRow, 3> change;  // per channel, the [-1 0 1] vertical differences, for dy
  PaddedRow zeros;                  // the norms of the rows above and below the image
  std::array<GradientRow, 3> ring;  // rows i - 1, i, i + 1, by index modulo 3
  std::vector<std::uint8_t> map;
  std::vector<std::uint8_t*> edges_to_grow;

  void fit(int new_rows, int new_cols, int new_channels) {
    if (new_rows == rows && new_cols == cols && new_channels == channels) return;
    rows = new_rows;
    cols = new_cols;
    channels = new_channels;
    padded_cols = (cols + kBlock - 1) / kBlock * kBlock;
    stride = padded_cols + 2;
    zeros.fit(padded_cols);
    for (int c = 0; c < channels; ++c) {
      smooth[c].fit(padded_cols);
      change[c].fit(padded_cols);
    }
    for (auto& gradient : ring) {
      for (auto* row : {&gradient.dx, &gradient.dy, &gradient.norm}) row->fit(padded_cols);
    }
    map.assign(static_cast<std::size_t>(stride * (rows + 2)), 0);
  }
  std::uint8_t* map_row(int row) { return map.data() + (row + 1) * stride + 1; }
};

// One block of 16 pixels of one channel: the vertical sums of the rows above, at and below.
void vertical_sums(const v_uint8x16& above, const v_uint8x16& row, const v_uint8x16& below,
                   std::int16_t* smooth, std::int16_t* change) {
  v_uint16x8 a[2], b[2], c[2];
  cv::v_expand(above, a[0], a[1]);
  cv::v_expand(row, b[0], b[1]);
  cv::v_expand(below, c[0], c[1]);
  for (int h = 0; h < 2; ++h) {
    cv::v_store(smooth + 8 * h, cv::v_reinterpret_as_s16(a[h] + b[h] + b[h] + c[h]));
    cv::v_store(change + 8 * h, cv::v_reinterpret_as_s16(c[h]) - cv::v_reinterpret_as_s16(a[h]));
  }
}

// The Sobel derivatives of image row r, border replicated as cv::Canny's cv::Sobel calls do:
// exact 16-bit sums (|dx|, |dy| <= 1020). Of three channels, each pixel takes the derivatives
// of the one with the largest norm, the first of equals, as cv::Canny does.
template <int channels>
void gradient_of_row(const cv::Mat& image, int r, Scratch& scratch, GradientRow& out) {
  const std::uint8_t* above = image.ptr(std::max(r - 1, 0));
  const std::uint8_t* row = image.ptr(r);
  const std::uint8_t* below = image.ptr(std::min(r + 1, image.rows - 1));
  const int cols = scratch.cols;
  std::array<std::int16_t*, channels> smooth{};
  std::array<std::int16_t*, channels> change{};
  for (int c = 0; c < channels; ++c) {
    smooth[c] = scratch.smooth[c].at0();
    change[c] = scratch.change[c].at0();
  }
  int j = 0;
  if constexpr (channels == 1) {
    for (; j + kBlock <= cols; j += kBlock) {
      vertical_sums(cv::v_load(above + j), cv::v_load(row + j), cv::v_load(below + j),
                    smooth[0] + j, change[0] + j);
    }
  } else {
    for (; j + kBlock <= cols; j += kBlock) {
      v_uint8x16 a[3], b[3], c[3];
      cv::v_load_deinterleave(above + 3 * j, a[0], a[1], a[2]);
      cv::v_load_deinterleave(row + 3 * j, b[0], b[1], b[2]);
      cv::v_load_deinterleave(below + 3 * j, c[0], c[1], c[2]);
      for (int ch = 0; ch < 3; ++ch)
        vertical_sums(a[ch], b[ch], c[ch], smooth[ch] + j, change[ch] + j);
    }
  }
  for (; j < cols; ++j) {
    for (int c = 0; c < channels; ++c) {
      const int k = j * channels + c;
      smooth[c][j] = static_cast<std::int16_t>(above[k] + 2 * row[k] + below[k]);
      change[c][j] = static_cast<std::int16_t>(below[k] - above[k]);
    }
  }
  for (int c = 0; c < channels; ++c) {
    smooth[c][-1] = smooth[c][0];
    smooth[c][cols] = smooth[c][cols - 1];
    change[c][-1] = change[c][0];
    change[c][cols] = change[c][cols - 1];
  }

  std::int16_t* dx = out.dx.at0();
  std::int16_t* dy = out.dy.at0();
  std::int16_t* norm = out.norm.at0();
  const auto derivatives = [&](int c, v_int16x8& gx, v_int16x8& gy, v_int16x8& m) {
    gx = cv::v_load(smooth[c] + j + 1) - cv::v_load(smooth[c] + j - 1);
    const v_int16x8 middle = cv::v_load(change[c] + j);
    gy = cv::v_load(change[c] + j - 1) + middle + middle + cv::v_load(change[c] + j + 1);
    m = cv::v_reinterpret_as_s16(cv::v_abs(gx) + cv::v_abs(gy));
  };
  for (j = 0; j < cols; j += 8) {
    v_int16x8 best_dx, best_dy, best_norm;
    derivatives(0, best_dx, best_dy, best_norm);
    for (int c = 1; c < channels; ++c) {
      v_int16x8 gx, gy, m;
      derivatives(c, gx, gy, m);
      const v_int16x8 larger = m > best_norm;
      best_dx = cv::v_select(larger, gx, best_dx);
      best_dy = cv::v_select(larger, gy, best_dy);
      best_norm = cv::v_select(larger, m, best_norm);
    }
    cv::v_store(dx + j, best_dx);
    cv::v_store(dy + j, best_dy);
    cv::v_store(norm + j, best_norm);
  }
  // A norm of 0 is never above the low threshold: the pixels beyond the row are never
  // candidates, and the last block needs no tail of its own.
  std::fill(norm + cols, norm + scratch.padded_cols + kBlock, std::int16_t{0});
  norm[-1] = 0;
}

// Non-maximum suppression and both thresholds over row i's pixels, as cv::Canny decides each:
// a pixel whose norm is above `low` is a candidate when it is a maximum along its gradient's
// direction (horizontal, vertical or one of the diagonals, told apart with tan 22.5° and
// tan 67.5° in 15-bit fixed point), and an edge when its norm is also above `high`.
void suppress_row(const GradientRow& gradient, const std::int16_t* above, const std::int16_t* below,
                  int low, int high, int padded_cols, std::uint8_t* map_row,
                  std::vector<std::uint8_t*>& edges) {
  const std::int16_t* norm = gradient.norm.at0();
  const std::int16_t* dx = gradient.dx.at0();
  const std::int16_t* dy = gradient.dy.at0();
  const v_int16x8 low_norm = cv::v_setall_s16(static_cast<std::int16_t>(low));
  const v_int16x8 high_norm = cv::v_setall_s16(static_cast<std::int16_t>(high));
  const v_int16x8 tan22 = cv::v_setall_s16(kTan22);
  const v_int16x8 one = cv::v_setall_s16(1);
  const v_int16x8 zero = cv::v_setzero_s16();
  const v_uint8x16 edge = cv::v_setall_u8(2);
  for (int j = 0; j < padded_cols; j += kBlock) {
    v_int16x8 state[2];
    for (int h = 0; h < 2; ++h) {
      const int k = j + 8 * h;
      const v_int16x8 m = cv::v_load(norm + k);
      const v_int16x8 gx = cv::v_load(dx + k);
      const v_int16x8 gy = cv::v_load(dy + k);
      const v_int16x8 x = cv::v_reinterpret_as_s16(cv::v_abs(gx));
      const v_int16x8 y = cv::v_reinterpret_as_s16(cv::v_abs(gy));
      // cv::Canny: horizontal when y·2^15 < x·tan22, vertical when y·2^15 > x·(tan22 + 2^16).
      // With q = ⌊x·tan22 / 2^15⌋ these are y <= q and y > 2x + q for integers (x·tan22 is
      // never a multiple of 2^15 for 0 < x <= 1020; x = y = 0 has a norm of 0).
      const v_int16x8 q = cv::v_mul_hi(x + x, tan22);
      const v_int16x8 horizontal = y <= q;
      const v_int16x8 vertical = y > x + x + q;
      const v_int16x8 across_x = (m > cv::v_load(norm + k - 1)) & (m >= cv::v_load(norm + k + 1));
      const v_int16x8 across_y = (m > cv::v_load(above + k)) & (m >= cv::v_load(below + k));
      const v_int16x8 same_signs = (gx ^ gy) >= zero;
      const v_int16x8 across_diagonal = cv::v_select(
          same_signs, (m > cv::v_load(above + k - 1)) & (m > cv::v_load(below + k + 1)),
          (m > cv::v_load(above + k + 1)) & (m > cv::v_load(below + k - 1)));
      const v_int16x8 maximum =
          cv::v_select(horizontal, across_x, cv::v_select(vertical, across_y, across_diagonal));
      const v_int16x8 candidate = maximum & (m > low_norm);
      state[h] = (candidate & one) + (candidate & (m > high_norm) & one);
    }
    const v_uint8x16 states = cv::v_pack_u(state[0], state[1]);
    cv::v_store(map_row + j, states);
    for (auto found = static_cast<unsigned>(cv::v_signmask(states == edge)); found != 0;
         found &= found - 1) {
      edges.push_back(map_row + j + std::countr_zero(found));
    }
  }
}

// Hysteresis: every candidate joined to an edge through candidates (8-connected) is an edge.
void grow_edges(std::vector<std::uint8_t*>& edges, std::ptrdiff_t stride) {
  const std::array<std::ptrdiff_t, 8> neighbours{-stride - 1, -stride,    -stride + 1, -1,
                                                 1,           stride - 1, stride,      stride + 1};
  while (!edges.empty()) {
    std::uint8_t* pixel = edges.back();
    edges.pop_back();
    for (const auto offset : neighbours) {
      if (pixel[offset] == 1) {
        pixel[offset] = 2;
        edges.push_back(pixel + offset);
      }
    }
  }
}

}  // namespace

bool canny_l1_3x3_applies(const cv::Mat& image, double low, double high, int aperture,
                          bool l2_gradient) {
  return (image.type() == CV_8UC1 || image.type() == CV_8UC3) && !image.empty() && aperture == 3 &&
         !l2_gradient && low >= 0 && low <= high;
}

cv::Mat canny_l1_3x3(const cv::Mat& image, double low_threshold, double high_threshold) {
  thread_local Scratch scratch;
  scratch.fit(image.rows, image.cols, image.channels());
  const int low = cvFloor(std::min(low_threshold, kNormBound));
  const int high = cvFloor(std::min(high_threshold, kNormBound));
  auto& ring = scratch.ring;
  scratch.edges_to_grow.clear();
  const auto gradient_of = image.channels() == 1 ? gradient_of_row<1> : gradient_of_row<3>;
  gradient_of(image, 0, scratch, ring[0]);
  for (int i = 0; i < image.rows; ++i) {
    const bool last = i + 1 == image.rows;
    if (!last) gradient_of(image, i + 1, scratch, ring[(i + 1) % 3]);
    const std::int16_t* above = i > 0 ? ring[(i + 2) % 3].norm.at0() : scratch.zeros.at0();
    const std::int16_t* below = last ? scratch.zeros.at0() : ring[(i + 1) % 3].norm.at0();
    suppress_row(ring[i % 3], above, below, low, high, scratch.padded_cols, scratch.map_row(i),
                 scratch.edges_to_grow);
  }
  grow_edges(scratch.edges_to_grow, scratch.stride);

  cv::Mat edges(image.rows, image.cols, CV_8UC1);
  const v_uint8x16 edge = cv::v_setall_u8(2);
  for (int i = 0; i < image.rows; ++i) {
    const std::uint8_t* states = scratch.map_row(i);
    std::uint8_t* out = edges.ptr(i);
    int j = 0;
    for (; j + kBlock <= image.cols; j += kBlock)
      cv::v_store(out + j, cv::v_load(states + j) == edge);
    for (; j < image.cols; ++j) out[j] = states[j] == 2 ? 255 : 0;
  }
  return edges;
}

}  // namespace framepipe::stages
