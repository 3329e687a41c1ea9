#pragma once

// The one way framepipe writes a file (outputs, reports, the manifest, batch pages): under a
// hidden temporary name in the final folder, every write checked, flushed to disk (fsync) and
// renamed into place, so the final path holds either the previous file or the complete new
// one, never a part.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace framepipe {

// Whether commit() may replace a file already at the final path.
enum class Replace { allowed, refused };

class AtomicFile {
 public:
  // Creates a new temporary file beside `final_path` (exclusively: never an existing file or
  // link); its folder must exist. Throws std::runtime_error naming `final_path` and the cause.
  explicit AtomicFile(std::filesystem::path final_path, Replace replace = Replace::allowed);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() { abort(); }

  // Appends `bytes`; throws one line naming the final file and the system's cause ("No space
  // left on device", "File too large") when not all of them were written.
  void write(std::string_view bytes);

  // Flushes the data to disk and closes the file, which stays under its temporary name until
  // commit() or abort(): for a writer that finishes many files and puts them in place together
  // (an image-sequence sink). Throws like write(). Idempotent.
  void close();
  // Closes the file without waiting for the disk: for files put in place in groups by
  // commit_all(), which makes their data durable then, all at once. Throws like write().
  void close_unsynced();
  // Flushes the data to disk (also after close_unsynced()), closes the file and renames it onto
  // the final path; with Replace::refused, fails when a file is there, also one that appeared
  // while this one was written. Throws one line naming the final file and the cause; the
  // temporary is then gone. Data a library wrote to temp_path() is flushed too.
  void commit();
  // Removes the temporary file; the final path is left as it was.
  void abort() noexcept;

  // commit() for many files at once, cheaper than one by one: first every file's data is made
  // durable, then each is renamed onto its final path, then the folders they went into are
  // synced, so that a record written afterwards (a manifest) never outlives, in a crash, the
  // renames it records. Returns, for each file, "" once it is in place, or the one line commit()
  // would throw when it is not (nothing of it is then left, at either name).
  static std::vector<std::string> commit_all(const std::vector<AtomicFile*>& files);

  const std::filesystem::path& final_path() const { return final_; }
  // For a library that writes by name (libav's avio_open): it writes here, closes its handle,
  // then commit() makes the result final.
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  [[noreturn]] void fail(const std::string& cause);
  // The data of a file closed unsynced, flushed to disk through a new handle.
  void sync_closed();
  // The same through `fd`, a handle opened on temp_ (closed here).
  void sync_open(int fd);
  void rename_into_place();

  std::filesystem::path final_;
  std::filesystem::path temp_;  // empty once committed or aborted
  Replace replace_;
  int fd_ = -1;
  bool synced_ = false;  // its data is on disk (close() or sync_closed() did it)
};

// The whole of `text` written to `path` through an AtomicFile.
void write_file_atomically(const std::filesystem::path& path, std::string_view text,
                           Replace replace = Replace::allowed);

}  // namespace framepipe
