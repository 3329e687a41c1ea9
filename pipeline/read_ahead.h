#pragma once

#include <cstdint>
#include <filesystem>

namespace framepipe {

// Asks the kernel to start reading the first `bytes` of `file` into the page cache, and returns
// at once (posix_fadvise WILLNEED): a source that reads its inputs one after the other then
// finds the next ones there instead of waiting on the disk for each. Errors are ignored: the
// real read reports them.
void read_ahead(const std::filesystem::path& file, std::int64_t bytes);

}  // namespace framepipe
