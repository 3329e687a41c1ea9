#include "stages/io/still_jpeg.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "stages/io/exif_orientation.h"
#include "stages/io/image_file.h"

namespace framepipe::stages {

namespace {

std::runtime_error unreadable(const std::string& path) {
  return std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
}

// The whole of `fd`'s file, read in one call of the size fstat gives (a batch reads thousands
// of small pictures: a stream's buffered reads cost several system calls and a copy each), and
// on while the file turns out longer. False with errno set when it cannot be read.
bool read_whole(int fd, std::vector<unsigned char>& bytes) {
  struct stat info {};
  std::size_t size = 0;
  if (::fstat(fd, &info) == 0 && info.st_size > 0) size = static_cast<std::size_t>(info.st_size);
  // One byte more than the size, so that reading the whole file ends with a short read.
  bytes.resize(size + 1);
  std::size_t got = 0;
  for (;;) {
    if (got == bytes.size()) bytes.resize(bytes.size() * 2);
    const auto n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    got += static_cast<std::size_t>(n);
    if (n == 0 || (got < bytes.size() && got >= size)) break;
  }
  bytes.resize(got);
  return true;
}

// A file's descriptor, closed when it goes.
class OpenFile {
 public:
  explicit OpenFile(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~OpenFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::optional<StillJpeg> StillJpeg::open(const std::string& path, std::int64_t max_pixels,
                                         bool autorotate) {
  const OpenFile file(path);
  if (file.fd() < 0) throw unreadable(path);
  // Only a JPEG is read whole here; libav reads any other picture itself.
  unsigned char start[3] = {};
  const auto got = ::pread(file.fd(), start, sizeof start, 0);
  if (got < 0) throw unreadable(path);
  if (!image_file::is_jpeg(start, static_cast<std::size_t>(got))) return std::nullopt;
  StillJpeg jpeg;
  jpeg.path_ = path;
  if (!read_whole(file.fd(), jpeg.bytes_)) throw unreadable(path);
  try {
    jpeg.stored_size_ = image_file::jpeg_size(jpeg.bytes_.data(), jpeg.bytes_.size());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("'" + path + "': " + e.what());
  }
  // A few bytes of header can declare a 65535x65535 picture.
  const auto pixels = std::int64_t{jpeg.stored_size_.width} * jpeg.stored_size_.height;
  if (pixels > max_pixels) {
    throw std::runtime_error(
        "'" + path + "': its picture is " + std::to_string(jpeg.stored_size_.width) + "x" +
        std::to_string(jpeg.stored_size_.height) + " (" + std::to_string(pixels) +
        " pixels), more than decode's max_pixels " + std::to_string(max_pixels));
  }
  jpeg.orientation_ = exif::jpeg_orientation(jpeg.bytes_.data(), jpeg.bytes_.size());
  jpeg.turn_ = autorotate;
  return jpeg;
}

cv::Size StillJpeg::size() const {
  // Orientations 5 to 8 swap width and height.
  const bool transposed = turn_ && orientation_ >= 5;
  return transposed ? cv::Size(stored_size_.height, stored_size_.width) : stored_size_;
}

cv::Mat StillJpeg::decode() const {
  cv::Mat image;
  try {
    image = image_file::decode_jpeg(bytes_.data(), bytes_.size());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("cannot decode '" + path_ + "': " + e.what());
  }
  return turn_ ? exif::upright(image, orientation_) : image;
}

}  // namespace framepipe::stages
