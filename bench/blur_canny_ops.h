// What the two blur+canny reference programs share: the per-frame work, written the way an
// OpenCV user writes it (blur the colour frame, find edges on its gray version, convert back to
// BGR because cv::VideoWriter takes colour frames), and opening the input and output.
#pragma once
#include <cstdio>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

inline cv::Mat blur_canny(const cv::Mat& frame) {
  cv::Mat blurred, gray, edges, bgr;
  cv::GaussianBlur(frame, blurred, {5, 5}, 2.0);
  cv::cvtColor(blurred, gray, cv::COLOR_BGR2GRAY);
  cv::Canny(gray, edges, 50, 150);
  cv::cvtColor(edges, bgr, cv::COLOR_GRAY2BGR);
  return bgr;
}

// Opens IN for reading and OUT for writing mp4v at IN's size and rate; says why not on stderr.
inline bool open_video(const char* in, const char* out, cv::VideoCapture& capture,
                       cv::VideoWriter& writer) {
  if (!capture.open(in)) {
    std::fprintf(stderr, "cannot open %s\n", in);
    return false;
  }
  const cv::Size size(static_cast<int>(capture.get(cv::CAP_PROP_FRAME_WIDTH)),
                      static_cast<int>(capture.get(cv::CAP_PROP_FRAME_HEIGHT)));
  if (!writer.open(out, cv::VideoWriter::fourcc('m', 'p', '4', 'v'), capture.get(cv::CAP_PROP_FPS),
                   size)) {
    std::fprintf(stderr, "cannot write %s\n", out);
    return false;
  }
  return true;
}
