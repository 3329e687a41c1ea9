#pragma once

// cv::Canny's edge map, byte for byte, for its most common use — 8-bit gray or BGR, a 3×3
// Sobel, the L1 gradient norm — in half its time on gray and a sixth on BGR. OpenCV 4.6 tests each
// pixel above the low threshold one at a time; here the gradient, its norm, the non-maximum
// suppression and both thresholds run 16 pixels at a time (OpenCV's universal intrinsics), and only
// the hysteresis, over the few pixels above the high threshold, runs pixel by pixel. Outputs equal
// cv::Canny's because every step is the same integer arithmetic (tests/stages/canny_l1_test.cpp).
#include <opencv2/core.hpp>

namespace framepipe::stages {

// Whether canny_l1_3x3 gives cv::Canny(image, edges, low, high, aperture, l2_gradient).
bool canny_l1_3x3_applies(const cv::Mat& image, double low, double high, int aperture,
                          bool l2_gradient);

// cv::Canny(image, edges, low, high, 3, false) for a non-empty CV_8UC1 or CV_8UC3 `image` and
// 0 <= low <= high.
cv::Mat canny_l1_3x3(const cv::Mat& image, double low, double high);

}  // namespace framepipe::stages
