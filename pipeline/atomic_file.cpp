#include "pipeline/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>

namespace framepipe {

namespace fs = std::filesystem;

namespace {

// A hidden name beside `path`, unique across processes and within one (two files of a batch
// may write the same final name). It keeps the extension: some writers pick a format by it.
fs::path temporary_name(const fs::path& path) {
  static std::atomic<unsigned> counter{0};
  return path.parent_path() / ("." + path.stem().string() + ".partial-" + std::to_string(getpid()) +
                               "-" + std::to_string(counter++) + path.extension().string());
}

// rename() that fails with EEXIST instead of replacing: renameat2's RENAME_NOREPLACE, or, on a
// filesystem without it, link() (which never replaces) and unlink().
int rename_without_replacing(const fs::path& from, const fs::path& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (link(from.c_str(), to.c_str()) == 0) {
    unlink(from.c_str());
    return 0;
  }
  if (errno != EPERM && errno != EOPNOTSUPP) return -1;
  // No hard links either (FAT): only a check before the rename is left.
  if (access(to.c_str(), F_OK) == 0) {
    errno = EEXIST;
    return -1;
  }
  return std::rename(from.c_str(), to.c_str());
}

}  // namespace

AtomicFile::AtomicFile(fs::path final_path, Replace replace)
    : final_(std::move(final_path)), replace_(replace) {
  // A leftover of a killed process that had the same id takes the next number.
  for (int attempt = 0; fd_ < 0; ++attempt) {
    temp_ = temporary_name(final_);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && (errno != EEXIST || attempt == 100)) {
      const int error = errno;
      temp_.clear();
      fail(std::strerror(error));
    }
  }
}

void AtomicFile::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto written = ::write(fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      fail(std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

void AtomicFile::close() {
  if (fd_ < 0) return sync_closed();
  if (::fsync(fd_) != 0) fail(std::strerror(errno));
  synced_ = true;
  close_unsynced();
}

void AtomicFile::close_unsynced() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  // A network filesystem may report a failed write only here.
  if (::close(fd) != 0) fail(std::strerror(errno));
}

void AtomicFile::sync_closed() {
  if (synced_ || temp_.empty()) return;
  const int fd = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(std::strerror(errno));
  sync_open(fd);
}

void AtomicFile::sync_open(int fd) {
  const bool synced = ::fdatasync(fd) == 0;
  const int error = errno;
  ::close(fd);
  if (!synced) fail(std::strerror(error));
  synced_ = true;
}

void AtomicFile::commit() {
  close();
  rename_into_place();
  temp_.clear();
}

namespace {

// The folder's entries (renames into it) flushed to disk; "" or the system's cause.
std::string sync_folder(const fs::path& folder) {
  const int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  const bool synced = ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  return synced ? "" : std::strerror(error);
}

}  // namespace

std::vector<std::string> AtomicFile::commit_all(const std::vector<AtomicFile*>& files) {
  std::vector<std::string> errors(files.size());
  // Runs `step` on each file that has not failed yet; a failure is the file's error.
  const auto each = [&](auto step) {
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (!errors[i].empty()) continue;
      try {
        step(*files[i]);
      } catch (const std::runtime_error& e) {
        errors[i] = e.what();
      }
    }
  };
  // Every file's writeback started before any is waited for. The descriptor that starts a
  // file's writeback also waits for it.
  std::vector<int> opened(files.size(), -1);
  std::map<dev_t, std::vector<std::size_t>> on_filesystem;
  for (std::size_t i = 0; i < files.size(); ++i) {
    try {
      files[i]->close_unsynced();
    } catch (const std::runtime_error& e) {
      errors[i] = e.what();
      continue;
    }
    opened[i] = ::open(files[i]->temp_.c_str(), O_RDONLY | O_CLOEXEC);
    // Unopened (no descriptor left, say): sync_closed() opens it again, or names the cause.
    if (opened[i] < 0) continue;
    ::sync_file_range(opened[i], 0, 0, SYNC_FILE_RANGE_WRITE);
    struct stat status {};
    if (::fstat(opened[i], &status) == 0) on_filesystem[status.st_dev].push_back(i);
  }
  // Then one syncfs per filesystem makes the data and inodes of them all durable with one
  // flush of the disk's cache, where an fdatasync each cost a flush each (and, on ext4 without
  // a journal, a synchronous inode write each): 6% of bench/images_vs_loop.sh's run. Where
  // syncfs fails, an fdatasync per file below finds which file it was.
  for (const auto& [filesystem, members] : on_filesystem) {
    if (::syncfs(opened[members.front()]) != 0) continue;
    for (const auto i : members) {
      ::close(opened[i]);
      opened[i] = -1;
      files[i]->synced_ = true;
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    try {
      if (opened[i] >= 0) {
        files[i]->sync_open(opened[i]);
      } else if (errors[i].empty()) {
        files[i]->sync_closed();
      }
    } catch (const std::runtime_error& e) {
      errors[i] = e.what();
    }
  }
  each([](AtomicFile& file) {
    file.rename_into_place();
    file.temp_.clear();
  });
  std::map<fs::path, std::vector<std::size_t>> placed_in;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (errors[i].empty()) placed_in[files[i]->final_.parent_path()].push_back(i);
  }
  for (const auto& [folder, placed] : placed_in) {
    const auto cause = sync_folder(folder);
    if (cause.empty()) continue;
    // Not known to survive a crash: not in place, as far as the caller records.
    for (const auto i : placed) {
      ::unlink(files[i]->final_.c_str());
      errors[i] = "cannot write '" + files[i]->final_.string() + "': " + cause;
    }
  }
  return errors;
}

void AtomicFile::rename_into_place() {
  if (replace_ == Replace::allowed) {
    if (std::rename(temp_.c_str(), final_.c_str()) != 0) fail(std::strerror(errno));
    return;
  }
  if (rename_without_replacing(temp_, final_) != 0) {
    if (errno == EEXIST) {
      fail("a file appeared there while it was being written, and it was not replaced");
    }
    fail(std::strerror(errno));
  }
}

void AtomicFile::abort() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
}

void AtomicFile::fail(const std::string& cause) {
  abort();
  throw std::runtime_error("cannot write '" + final_.string() + "': " + cause);
}

void write_file_atomically(const fs::path& path, std::string_view text, Replace replace) {
  AtomicFile file(path, replace);
  file.write(text);
  file.commit();
}

}  // namespace framepipe
