#pragma once

#include <opencv2/imgproc.hpp>

#include "pipeline/frame.h"

namespace framepipe::stages {

// The image as one 8-bit gray channel: itself when it already is one, else converted from BGR.
inline cv::Mat gray_of(const cv::Mat& image) {
  if (image.channels() == 1) return image;
  cv::Mat gray;
  cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  return gray;
}

// The frame as one 8-bit gray channel, from the decoder's YUV planes when no stage has needed
// BGR pixels yet: that skips the YUV -> BGR conversion and the BGR -> gray one.
inline cv::Mat gray_of(Frame& frame) {
  if (cv::Mat gray = frame.deferred_gray(); !gray.empty()) return gray;
  return gray_of(frame.image());
}

}  // namespace framepipe::stages
