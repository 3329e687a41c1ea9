#include "pipeline/read_ahead.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace framepipe {

void read_ahead(const std::filesystem::path& file, std::int64_t bytes) {
  // Only a regular file: opening a device or a pipe named like an image can block or act.
  struct stat status = {};
  if (::stat(file.c_str(), &status) != 0 || !S_ISREG(status.st_mode)) return;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, static_cast<off_t>(bytes), POSIX_FADV_WILLNEED);
  ::close(fd);
}

}  // namespace framepipe
