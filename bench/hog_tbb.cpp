// Reference for bench/hog_vs_loop.sh: people detection in the oneTBB pipeline an experienced
// user writes by hand. tbb::parallel_pipeline: read (serial, in order) → HOG detectMultiScale
// with detect_people's default parameters (parallel) → count (serial, in order), with TOKENS
// frames in flight and one detector per thread; OpenCV's own threads off, so the frames are
// what runs in parallel.
// Usage: hog_tbb VIDEO [TOKENS]   (default 4). Prints "frames N detections M".
#include <oneapi/tbb/parallel_pipeline.h>

#include <cstdio>
#include <cstdlib>
#include <opencv2/core/utility.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/videoio.hpp>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s VIDEO [TOKENS]\n", argv[0]);
    return 2;
  }
  const std::size_t tokens = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 4;
  cv::setNumThreads(1);
  cv::VideoCapture capture(argv[1]);
  if (!capture.isOpened()) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 1;
  }
  long frames = 0;
  long detections = 0;
  auto read = [&](oneapi::tbb::flow_control& control) {
    cv::Mat frame;
    if (!capture.read(frame)) control.stop();
    return frame;
  };
  auto detect = [](const cv::Mat& frame) {
    // One detector per thread: detectMultiScale is const but not documented as safe to call
    // concurrently on one instance.
    thread_local const cv::HOGDescriptor hog = [] {
      cv::HOGDescriptor made;
      made.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
      return made;
    }();
    std::vector<cv::Rect> boxes;
    std::vector<double> weights;
    hog.detectMultiScale(frame, boxes, weights, 0, {8, 8}, {0, 0}, 1.05, 2);
    return boxes.size();
  };
  auto count = [&](std::size_t found) {
    ++frames;
    detections += static_cast<long>(found);
  };
  using oneapi::tbb::filter_mode;
  using oneapi::tbb::make_filter;
  oneapi::tbb::parallel_pipeline(
      tokens, make_filter<void, cv::Mat>(filter_mode::serial_in_order, read) &
                  make_filter<cv::Mat, std::size_t>(filter_mode::parallel, detect) &
                  make_filter<std::size_t, void>(filter_mode::serial_in_order, count));
  std::printf("frames %ld detections %ld\n", frames, detections);
  return 0;
}
