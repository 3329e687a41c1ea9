// The reference for bench/hog_vs_loop.sh: the loop an OpenCV user writes by hand. VideoCapture
// reads the video, HOGDescriptor::detectMultiScale runs on each frame with detect_people's
// default parameters, one frame after another.
// Usage: hog_loop VIDEO [--threads N]   (N: cv::setNumThreads; default: OpenCV's own choice)
// Prints "frames N detections M".
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <opencv2/core/utility.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/videoio.hpp>

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::strcmp(argv[2], "--threads") == 0)) {
    std::fprintf(stderr, "usage: %s VIDEO [--threads N]\n", argv[0]);
    return 2;
  }
  // 1 makes every OpenCV call sequential; without the flag detectMultiScale spreads its pyramid
  // levels over all cores.
  if (argc == 4) cv::setNumThreads(std::atoi(argv[3]));
  cv::VideoCapture capture(argv[1]);
  if (!capture.isOpened()) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 1;
  }
  cv::HOGDescriptor hog;
  hog.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  long frames = 0;
  long detections = 0;
  cv::Mat frame;
  std::vector<cv::Rect> boxes;
  std::vector<double> weights;
  while (capture.read(frame)) {
    hog.detectMultiScale(frame, boxes, weights, 0, {8, 8}, {0, 0}, 1.05, 2);
    ++frames;
    detections += static_cast<long>(boxes.size());
  }
  std::printf("frames %ld detections %ld\n", frames, detections);
  return 0;
}
