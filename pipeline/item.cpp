#include "pipeline/item.h"

#include <map>

#include "pipeline/item_outputs.h"

namespace framepipe {

namespace {

// Each live item's written files (pipeline/item_outputs.h), by the item's address.
std::mutex held_item_files_mutex;
std::map<const Item*, std::vector<std::unique_ptr<AtomicFile>>> held_item_files;

// Removes the files still held for `item` from its hidden names.
void drop_held_item_files(const Item* item) {
  std::vector<std::unique_ptr<AtomicFile>> dropped;  // destroyed outside the lock
  std::lock_guard lock(held_item_files_mutex);
  if (const auto it = held_item_files.find(item); it != held_item_files.end()) {
    dropped = std::move(it->second);
    held_item_files.erase(it);
  }
}

}  // namespace

void add_written_output(Item& item, std::unique_ptr<AtomicFile> written) {
  auto final_path = written->final_path();
  {
    std::lock_guard lock(held_item_files_mutex);
    held_item_files[&item].push_back(std::move(written));
  }
  item.add_output(std::move(final_path));
}

std::vector<std::unique_ptr<AtomicFile>> take_written_outputs(const Item& item) {
  std::lock_guard lock(held_item_files_mutex);
  const auto it = held_item_files.find(&item);
  if (it == held_item_files.end()) return {};
  auto files = std::move(it->second);
  held_item_files.erase(it);
  return files;
}

Item::~Item() {
  // A failed or cancelled item's outputs never reached their final paths.
  if (outcome_.status != "ok") {
    drop_held_item_files(this);
    outcome_.outputs.clear();
  }
  if (done_) done_(*this, outcome_);
  drop_held_item_files(this);
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
