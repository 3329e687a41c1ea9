#include "pipeline/item.h"

#include <system_error>

namespace framepipe {

Item::~Item() {
  if (outcome_.status != "ok") {
    std::error_code ignored;
    for (const auto& output : outcome_.outputs) std::filesystem::remove(output, ignored);
    outcome_.outputs.clear();
  }
  if (done_) done_(*this, outcome_);
}

void Item::add_output(std::filesystem::path output) {
  std::lock_guard lock(mutex_);
  outcome_.outputs.push_back(std::move(output));
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
