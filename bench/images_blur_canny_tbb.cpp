// Reference for bench/images_vs_loop.sh: a folder of JPEGs through blur + canny the way an
// experienced user writes it by hand: the file names listed, then tbb::parallel_for over them,
// each cv::imread → cv::GaussianBlur 5×5 σ 2 → cv::Canny(50, 150) → cv::imwrite (JPEG quality
// 95, cv::imwrite's default) under the same name in OUT_DIR; OpenCV's own threads off, so the
// files are what runs in parallel.
// Usage: images_blur_canny_tbb IN_DIR OUT_DIR [THREADS]   (default: all cores). Prints
// "files N failed M".
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s IN_DIR OUT_DIR [THREADS]\n", argv[0]);
    return 2;
  }
  const int threads = argc > 3 ? std::atoi(argv[3]) : oneapi::tbb::info::default_concurrency();
  oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(threads));
  cv::setNumThreads(1);
  std::vector<fs::path> inputs;
  for (const auto& entry : fs::directory_iterator(argv[1])) {
    if (entry.is_regular_file() && entry.path().extension() == ".jpg")
      inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  const fs::path out_dir = argv[2];
  fs::create_directories(out_dir);
  std::atomic<long> failed{0};
  oneapi::tbb::parallel_for(std::size_t{0}, inputs.size(), [&](std::size_t i) {
    const cv::Mat image = cv::imread(inputs[i].string());
    if (image.empty()) {
      std::fprintf(stderr, "cannot read %s\n", inputs[i].c_str());
      ++failed;
      return;
    }
    cv::Mat blurred, edges;
    cv::GaussianBlur(image, blurred, {5, 5}, 2.0);
    cv::Canny(blurred, edges, 50, 150);
    if (!cv::imwrite((out_dir / inputs[i].filename()).string(), edges)) ++failed;
  });
  std::printf("files %zu failed %ld\n", inputs.size(), failed.load());
  return failed > 0 ? 1 : 0;
}
