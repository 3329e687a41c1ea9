#pragma once

// One input of a run over many small inputs (a batch's images): all of them flow through one
// graph, built once, instead of a run each. The source asks for each item in turn and tags its
// frames with it (Frame::item); a stage call that fails on an item's frame fails that item
// alone, and the item is done when the last of its frames is gone.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline/atomic_file.h"

namespace framepipe {

class Item {
 public:
  struct Outcome {
    std::string status = "ok";  // ok, failed or cancelled
    std::string error;          // one line naming the file, for failed and cancelled
    std::int64_t frames = 0;
    // Their final paths; the files wait under hidden names (add_written)
    std::vector<std::filesystem::path> outputs;
  };
  using Done = std::function<void(Item&, const Outcome&)>;

  // `done` is called once, on whichever thread lets go of the item last; it must not throw.
  Item(std::string path, std::filesystem::path output_dir, Done done)
      : path_(std::move(path)), output_dir_(std::move(output_dir)), done_(std::move(done)) {}
  Item(const Item&) = delete;
  Item& operator=(const Item&) = delete;
  // Reports the outcome; a failed or cancelled item's written files are removed first, and so
  // are any its Done callback did not take, so none of them reaches a final path.
  ~Item();

  const std::string& path() const { return path_; }                        // the input file
  const std::filesystem::path& output_dir() const { return output_dir_; }  // where its outputs go

  // Called by the stages (from any thread): a file a sink wrote for this item, whole and closed
  // under its hidden name (AtomicFile::close_unsynced), its final path one of the outputs; the
  // item failed ("<file>: stage 'x' (type): cause"); it was stopped with the run.
  void add_written(std::unique_ptr<AtomicFile> written);
  void fail(const std::string& error);
  void cancel(const std::string& why);
  // Called by the engine for each frame the source tags with it.
  void count_frame();
  // Called by the Done callback: the written files, to put in place (a batch does it in
  // groups: pipeline/group_commit.h); empty after the first call.
  std::vector<std::unique_ptr<AtomicFile>> take_written();

 private:
  const std::string path_;
  const std::filesystem::path output_dir_;
  const Done done_;
  mutable std::mutex mutex_;
  Outcome outcome_;
  std::vector<std::unique_ptr<AtomicFile>> written_;
};

using ItemPtr = std::shared_ptr<Item>;
// What a source in item mode asks for its next item; null when there are no more.
using NextItem = std::function<ItemPtr()>;

}  // namespace framepipe
