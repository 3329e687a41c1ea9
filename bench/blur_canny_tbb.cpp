// Reference for bench/run.sh: the oneTBB pipeline an experienced user writes by hand.
// tbb::parallel_pipeline: read (serial, in order) → blur_canny (parallel) → write (serial, in
// order), with TOKENS frames in flight, on an arena of THREADS threads.
// Usage: blur_canny_tbb IN OUT [TOKENS] [THREADS]   (defaults: 4 tokens, all cores)
// Prints "frames N".
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_pipeline.h>

#include <cstdio>
#include <cstdlib>
#include <opencv2/videoio.hpp>

#include "blur_canny_ops.h"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: %s IN OUT [TOKENS] [THREADS]\n", argv[0]);
    return 2;
  }
  const std::size_t tokens = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 4;
  const int threads = argc > 4 ? std::atoi(argv[4]) : oneapi::tbb::info::default_concurrency();
  oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(threads));
  cv::VideoCapture capture;
  cv::VideoWriter writer;
  if (!open_video(argv[1], argv[2], capture, writer)) return 1;
  long frames = 0;
  auto read = [&](oneapi::tbb::flow_control& control) {
    cv::Mat frame;
    if (!capture.read(frame)) control.stop();
    return frame;
  };
  auto process = [](const cv::Mat& frame) { return blur_canny(frame); };
  auto write = [&](const cv::Mat& edges) {
    writer.write(edges);
    ++frames;
  };
  using oneapi::tbb::filter_mode;
  using oneapi::tbb::make_filter;
  oneapi::tbb::parallel_pipeline(
      tokens, make_filter<void, cv::Mat>(filter_mode::serial_in_order, read) &
                  make_filter<cv::Mat, cv::Mat>(filter_mode::parallel, process) &
                  make_filter<cv::Mat, void>(filter_mode::serial_in_order, write));
  std::printf("frames %ld\n", frames);
  return 0;
}
