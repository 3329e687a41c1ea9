#include "pipeline/read_ahead.h"

#include <fcntl.h>
#include <unistd.h>

namespace framepipe {

void read_ahead(const std::filesystem::path& file, std::int64_t bytes) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, static_cast<off_t>(bytes), POSIX_FADV_WILLNEED);
  ::close(fd);
}

}  // namespace framepipe
