// The per-frame work both blur+canny reference programs do, written the way an OpenCV user
// writes it: blur the colour frame, find edges on its gray version, and convert back to BGR
// because cv::VideoWriter takes colour frames.
#pragma once
#include <opencv2/imgproc.hpp>

inline cv::Mat blur_canny(const cv::Mat& frame) {
  cv::Mat blurred, gray, edges, bgr;
  cv::GaussianBlur(frame, blurred, {5, 5}, 2.0);
  cv::cvtColor(blurred, gray, cv::COLOR_BGR2GRAY);
  cv::Canny(gray, edges, 50, 150);
  cv::cvtColor(edges, bgr, cv::COLOR_GRAY2BGR);
  return bgr;
}
