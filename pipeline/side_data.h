#pragma once

// Typed values that one stage publishes for the other stages of the same run, in the spirit of
// MediaPipe's side packets: the source puts them in open(), later stages get them in theirs
// (stages are opened in config order, the source first). The engine carries them without
// knowing their types; a key names its value's type, so a reader gets what the writer put, or
// nothing. The store itself is thread-safe; a value that changes during the run (a queue of
// packets) guards itself.
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeindex>
#include <typeinfo>
#include <utility>

namespace framepipe {

// Declared once, beside the type it carries: `inline constexpr SideKey<Input>
// kInput{"decode.input"};`
template <typename T>
struct SideKey {
  std::string_view name;  // unique within a run's store
};

class SideData {
 public:
  // Publishes `value` under `key`, replacing what was there.
  template <typename T>
  void put(const SideKey<T>& key, std::shared_ptr<T> value) {
    std::lock_guard lock(mutex_);
    entries_.insert_or_assign(std::string(key.name), Entry{typeid(T), std::move(value)});
  }

  // What was published under `key`; null when nothing was.
  template <typename T>
  std::shared_ptr<T> get(const SideKey<T>& key) const {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key.name);
    if (it == entries_.end()) return nullptr;
    // Two keys of one name but different types: a programming error, not bad input.
    if (it->second.type != std::type_index(typeid(T))) {
      throw std::logic_error("side data '" + std::string(key.name) + "' holds another type");
    }
    return std::static_pointer_cast<T>(it->second.value);
  }

 private:
  struct Entry {
    std::type_index type;
    std::shared_ptr<void> value;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace framepipe
