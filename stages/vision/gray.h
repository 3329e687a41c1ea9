#pragma once

#include <opencv2/imgproc.hpp>

namespace framepipe::stages {

// The image as one 8-bit gray channel: itself when it already is one, else converted from BGR.
inline cv::Mat gray_of(const cv::Mat& image) {
  if (image.channels() == 1) return image;
  cv::Mat gray;
  cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  return gray;
}

}  // namespace framepipe::stages
