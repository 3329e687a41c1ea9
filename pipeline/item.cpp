#include "pipeline/item.h"

#include <utility>

namespace framepipe {

Item::~Item() {
  // A failed or cancelled item's outputs never reach their final paths; the AtomicFiles
  // remove them from their hidden names as they go.
  if (outcome_.status != "ok") {
    written_.clear();
    outcome_.outputs.clear();
  }
  if (done_) done_(*this, outcome_);
}

void Item::add_written(std::unique_ptr<AtomicFile> written) {
  std::lock_guard lock(mutex_);
  outcome_.outputs.push_back(written->final_path());
  written_.push_back(std::move(written));
}

std::vector<std::unique_ptr<AtomicFile>> Item::take_written() {
  std::lock_guard lock(mutex_);
  return std::exchange(written_, {});
}

void Item::fail(const std::string& error) {
  std::lock_guard lock(mutex_);
  // The first cause is the one to report; a cancellation after a failure changes nothing.
  if (outcome_.status != "ok") return;
  outcome_.status = "failed";
  outcome_.error = error;
}

void Item::cancel(const std::string& why) {
  std::lock_guard lock(mutex_);
  if (outcome_.status != "ok") return;
  outcome_.status = "cancelled";
  outcome_.error = why;
}

void Item::count_frame() {
  std::lock_guard lock(mutex_);
  ++outcome_.frames;
}

}  // namespace framepipe
