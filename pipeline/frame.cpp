#include "pipeline/frame.h"

namespace framepipe {

const cv::Mat& DeferredImage::image() const {
  std::call_once(once_, [this] { image_ = convert(); });
  return image_;
}

const cv::Mat& Frame::image() {
  if (image_.empty() && deferred_) {
    image_ = deferred_->image();
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
