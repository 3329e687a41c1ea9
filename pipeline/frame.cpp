#include "pipeline/frame.h"

namespace framepipe {

const cv::Mat& DeferredImage::image(const ConversionWatcher* watcher, std::int64_t frame) const {
  std::call_once(once_, [&] {
    if (!watcher) {
      image_ = convert();
      return;
    }
    watcher->conversion_started(frame);
    try {
      image_ = convert();
    } catch (...) {
      watcher->conversion_ended(frame, true);
      throw;
    }
    watcher->conversion_ended(frame, false);
  });
  return image_;
}

const cv::Mat& Frame::image() {
  if (image_.empty() && deferred_) {
    image_ = deferred_->image(conversion_watcher_, index);
    deferred_.reset();
  }
  return image_;
}

void Frame::set_image(cv::Mat image) {
  image_ = std::move(image);
  deferred_.reset();
}

void Frame::set_deferred(std::shared_ptr<const DeferredImage> deferred) {
  image_.release();
  deferred_ = std::move(deferred);
}

void Frame::drop() {
  dropped_ = true;
  image_.release();
  deferred_.reset();
}

}  // namespace framepipe
