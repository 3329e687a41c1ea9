#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace framepipe::stages {

// Lends out instances of an object that must not be used by two threads at once (a
// cv::CascadeClassifier, a cv::dnn::Net), creating one more only when every existing one is
// busy. A parallel stage thus holds as many instances as frames it ever ran at once (its
// concurrency), each reused across frames, and frees them with the stage; thread_local copies
// would instead live as long as the oneTBB workers and multiply with every stage instance.
template <typename T>
class InstancePool {
 public:
  explicit InstancePool(std::function<std::unique_ptr<T>()> make) : make_(std::move(make)) {}

  // Returns the instance to the pool when destroyed.
  class Lease {
   public:
    Lease(InstancePool& pool, std::unique_ptr<T> item) : pool_(pool), item_(std::move(item)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.give_back(std::move(item_)); }
    T& operator*() const { return *item_; }
    T* operator->() const { return item_.get(); }

   private:
    InstancePool& pool_;
    std::unique_ptr<T> item_;
  };

  Lease acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto item = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(item));
      }
    }
    // Built outside the lock: loading a model can take a while and other threads may be
    // returning instances meanwhile.
    return Lease(*this, make_());
  }

  // Puts an instance built in advance (so a load failure shows in open(), not mid-run).
  void add(std::unique_ptr<T> item) { give_back(std::move(item)); }

 private:
  void give_back(std::unique_ptr<T> item) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(item));
  }

  std::function<std::unique_ptr<T>()> make_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<T>> idle_;
};

}  // namespace framepipe::stages
