// Reference for bench/run.sh: the sequential loop an OpenCV user writes by hand.
// VideoCapture → GaussianBlur 5x5 σ2 → gray → Canny(50,150) → BGR → VideoWriter (mp4v).
// Usage: blur_canny_loop IN OUT [--threads N]   (N: cv::setNumThreads; default OpenCV's choice)
// Prints "frames N".
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <opencv2/core/utility.hpp>
#include <opencv2/videoio.hpp>

#include "blur_canny_ops.h"

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 5 && std::strcmp(argv[3], "--threads") == 0)) {
    std::fprintf(stderr, "usage: %s IN OUT [--threads N]\n", argv[0]);
    return 2;
  }
  if (argc == 5) cv::setNumThreads(std::atoi(argv[4]));
  cv::VideoCapture capture;
  cv::VideoWriter writer;
  if (!open_video(argv[1], argv[2], capture, writer)) return 1;
  long frames = 0;
  cv::Mat frame;
  while (capture.read(frame)) {
    writer.write(blur_canny(frame));
    ++frames;
  }
  std::printf("frames %ld\n", frames);
  return 0;
}
