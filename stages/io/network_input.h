// Opening an input: a local file or an http:// or https:// URL (libav's own protocols).
//   - "-" (or "pipe:0") is standard input, as for the ffmpeg CLI; a read blocked on an idle pipe
//     stops when the run is cancelled.
//   - Local paths must name regular files: a FIFO, device or socket named like a video would
//     block open() forever, so it is refused before libav sees it. libav may open nothing but
//     files for them (protocol_whitelist), so "concat:", "subfile:" and playlists cannot reach
//     the network.
//   - URLs: http and https only (any other scheme, e.g. udp://, has no timeout or cancellation
//     in libav); a timeout on every read and connect, libav's reconnect with backoff when a
//     transfer breaks mid-file, retries with backoff when opening fails for a reason that may
//     pass (a timeout, a refused connection, a 5xx answer); https verifies the server's
//     certificate against the system's authorities or `tls_ca_file`.
//   - Demuxers that turn any text into pictures (libav's tty, bin, xbin, adf, idf) are refused:
//     a text file is not a video. One that looks like a list of inputs says so.
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
}

#include "pipeline/inputs.h"
#include "pipeline/params.h"
#include "stages/io/libav_error.h"

namespace framepipe::stages::network_input {

inline bool is_url(const std::string& path) {
  return path.starts_with("http://") || path.starts_with("https://");
}

// "scheme://…" of any scheme: meant as a URL, whether framepipe reads it or not.
inline bool has_scheme(const std::string& path) {
  const auto end = path.find("://");
  return end != std::string::npos && end > 0 &&
         std::all_of(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(end), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
         });
}

// The decode parameters that apply to URLs.
inline const auto timeout_ms = Param<int>{"network_timeout_ms", 30000,
                                          "URL inputs: how long one connect or read may wait "
                                          "before it fails (libav's rw_timeout)"}
                                   .range(100, 3600000);
inline const auto retries = Param<int>{"network_retries", 3,
                                       "URL inputs: retries, with backoff, of an open that timed "
                                       "out, was refused or got a 5xx answer, and reconnects of a "
                                       "transfer that broke mid-file"}
                                .range(0, 10);
inline const Param<std::string> tls_ca_file{
    "tls_ca_file", "",
    "https inputs: PEM file of the certificate authorities to trust instead of the system's (a "
    "private CA, a self-signed server); the server's certificate is always verified"};

struct Options {
  int timeout_ms = 30000;
  int retries = 3;
  std::string tls_ca_file{};
  // When set, a cancelled run (SIGINT) interrupts waiting for the network at once.
  const std::atomic<bool>* cancel = nullptr;
  // An image sequence's rate for libav's image2 demuxer ("30000/1001"); empty: its 25.
  std::string framerate{};
  // The local path is a glob of images ("frames/*.png"), read by image2 in name order.
  bool image_glob = false;
};

inline Options options_from(const Params& params) {
  return {params[timeout_ms], params[retries], params[tls_ca_file]};
}

// What a local path names when it is not a regular file, or "" (a regular file, or a path
// whose status cannot be read: libav then says why it cannot open it).
inline std::string special_file_kind(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0 || S_ISREG(status.st_mode)) return "";
  if (S_ISDIR(status.st_mode)) return "a folder";
  if (S_ISFIFO(status.st_mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(status.st_mode)) return "a socket";
  if (S_ISCHR(status.st_mode) || S_ISBLK(status.st_mode)) return "a device";
  return "not a regular file";
}

// Throws, with one line, when framepipe will not read `path` at all.
inline void check_readable(const std::string& path) {
  if (has_scheme(path) && !is_url(path)) {
    throw std::runtime_error("cannot open '" + path +
                             "': only http:// and https:// URLs are read (" +
                             path.substr(0, path.find("://")) + " has no timeout or cancellation)");
  }
  if (is_url(path)) return;
  if (const auto kind = special_file_kind(path); !kind.empty()) {
    throw std::runtime_error("cannot open '" + path + "': it is " + kind +
                             ", not a regular file (framepipe reads regular files and http(s) "
                             "URLs)");
  }
}

// True when the first line that is not blank or a '#' comment names an input as an input
// list would: a URL, or a file name ending like a video.
inline bool looks_like_input_list(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  for (std::string line; std::getline(file, line);) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    if (has_scheme(line)) return true;
    static constexpr std::array<std::string_view, 8> kVideoEndings = {
        ".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".ts", ".mpg"};
    std::string lower(line);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return std::any_of(kVideoEndings.begin(), kVideoEndings.end(),
                       [&](std::string_view ending) { return lower.ends_with(ending); });
  }
  return false;
}

// libav demuxers that render any text (ANSI art) as pictures: a text file opened with them
// "decodes" into a short video of its characters.
inline bool renders_text(const AVInputFormat* format) {
  static constexpr std::array<std::string_view, 5> kTextDemuxers = {"tty", "bin", "xbin", "adf",
                                                                    "idf"};
  return format && std::find(kTextDemuxers.begin(), kTextDemuxers.end(),
                             std::string_view(format->name)) != kTextDemuxers.end();
}

// Throws when libav took `path` for text rendered as pictures; closes *format first.
inline void refuse_text(AVFormatContext** format, const std::string& path) {
  if (!renders_text((*format)->iformat)) return;
  avformat_close_input(format);
  const bool local = !is_url(path);
  throw std::runtime_error("cannot open '" + path + "': it is text, not a video" +
                           (local && looks_like_input_list(path)
                                ? " (it looks like a list of inputs: use --input-list)"
                                : ""));
}

// A failure worth another try: the server or the network may recover; a 4xx answer or data
// that is not media will not.
inline bool transient(int error) {
  return error == AVERROR(ETIMEDOUT) || error == AVERROR(ECONNREFUSED) ||
         error == AVERROR(ECONNRESET) || error == AVERROR(EIO) || error == AVERROR(EAGAIN) ||
         error == AVERROR_HTTP_SERVER_ERROR || error == AVERROR_EOF;
}

// libav's http reconnects after 0, 1, 3, 7 … seconds while the delay stays within
// reconnect_delay_max: this many retries need a maximum of 2^(retries-1) - 1.
inline std::string reconnect_delay_max(int retries) {
  return std::to_string(retries <= 1 ? 0 : (1 << (std::min(retries, 10) - 1)) - 1);
}

inline bool cancel_requested(const std::atomic<bool>* cancel) { return cancel && cancel->load(); }

// libav's interrupt callback: non-zero makes a blocked connect or read return AVERROR_EXIT.
inline int interrupt_callback(void* cancel) {
  return cancel_requested(static_cast<const std::atomic<bool>*>(cancel)) ? 1 : 0;
}

// Sleeps `duration` unless the run is cancelled first; false when it was.
inline bool wait_unless_cancelled(std::chrono::milliseconds duration,
                                  const std::atomic<bool>* cancel) {
  const auto step = std::chrono::milliseconds(20);
  for (auto left = duration; left.count() > 0; left -= step) {
    if (cancel_requested(cancel)) return false;
    std::this_thread::sleep_for(std::min(step, left));
  }
  return !cancel_requested(cancel);
}

// The protocols libav may use for an input and anything it opens in turn (playlists, segments).
inline const char* protocol_whitelist(const std::string& path) {
  return is_url(path) ? "http,https,tls,tcp,crypto,httpproxy" : "file";
}

// An http(s) URL through avformat_open_input, with the timeout, reconnects and retries.
inline int open_url(AVFormatContext** format, const std::string& path, const Options& options) {
  int ret = 0;
  for (int attempt = 0; attempt <= options.retries; ++attempt) {
    if (attempt > 0 && !wait_unless_cancelled(std::chrono::milliseconds(250) * (1 << (attempt - 1)),
                                              options.cancel)) {
      return AVERROR_EXIT;
    }
    *format = avformat_alloc_context();
    if (!*format) return AVERROR(ENOMEM);
    (*format)->interrupt_callback = {interrupt_callback,
                                     const_cast<std::atomic<bool>*>(options.cancel)};
    AVDictionary* settings = nullptr;
    av_dict_set(&settings, "protocol_whitelist", protocol_whitelist(path), 0);
    // libav leaves certificates unchecked unless asked; GnuTLS then trusts the system's
    // authorities, or only those in ca_file.
    av_dict_set(&settings, "tls_verify", "1", 0);
    if (!options.tls_ca_file.empty()) {
      av_dict_set(&settings, "ca_file", options.tls_ca_file.c_str(), 0);
    }
    av_dict_set(&settings, "rw_timeout",
                std::to_string(static_cast<long long>(options.timeout_ms) * 1000).c_str(), 0);
    if (options.retries > 0) {
      av_dict_set(&settings, "reconnect", "1", 0);
      av_dict_set(&settings, "reconnect_delay_max", reconnect_delay_max(options.retries).c_str(),
                  0);
    }
    libav::take_last_logged_error();
    ret = avformat_open_input(format, path.c_str(), nullptr, &settings);
    av_dict_free(&settings);
    // GnuTLS's verdict reaches us only as EIO and a logged line; a retry cannot change it.
    if (const auto logged = libav::take_last_logged_error();
        ret < 0 && logged.find("certificate") != std::string::npos) {
      throw std::runtime_error("cannot open '" + path +
                               "': the server's TLS certificate is not trusted (" + logged +
                               "); decode's tls_ca_file names an authority to trust");
    }
    if (ret >= 0 || !transient(ret) || cancel_requested(options.cancel)) {
      return ret;
    }
  }
  return ret;
}

// A local file through avformat_open_input, opening nothing but files.
inline int open_local(AVFormatContext** format, const std::string& path, const Options& options) {
  AVDictionary* settings = nullptr;
  av_dict_set(&settings, "protocol_whitelist", protocol_whitelist(path), 0);
  if (!options.framerate.empty()) av_dict_set(&settings, "framerate", options.framerate.c_str(), 0);
  const AVInputFormat* demuxer = nullptr;
  if (options.image_glob) {
    av_dict_set(&settings, "pattern_type", "glob", 0);
    demuxer = av_find_input_format("image2");
  }
  const int ret = avformat_open_input(format, path.c_str(), demuxer, &settings);
  av_dict_free(&settings);
  return ret;
}

// Standard input through libav's pipe protocol and nothing else.
inline int open_standard_input(AVFormatContext** format, const Options& options) {
  *format = avformat_alloc_context();
  if (!*format) return AVERROR(ENOMEM);
  (*format)->interrupt_callback = {interrupt_callback,
                                   const_cast<std::atomic<bool>*>(options.cancel)};
  AVDictionary* settings = nullptr;
  av_dict_set(&settings, "protocol_whitelist", "pipe", 0);
  const int ret = avformat_open_input(format, "pipe:0", nullptr, &settings);
  av_dict_free(&settings);
  if (ret >= 0) refuse_text(format, "-");
  return ret;
}

// avformat_open_input() of what check_readable() allows, with the options above when `path`
// is a URL. Returns libav's error code, like avformat_open_input; on failure *format is null.
// Throws std::runtime_error, with one line, for an input framepipe refuses (check_readable,
// refuse_text). A URL's context keeps the interrupt callback, so its later reads stop when
// the run is cancelled too.
inline int open(AVFormatContext** format, const std::string& path, const Options& options) {
  if (framepipe::is_standard_input(path)) return open_standard_input(format, options);
  check_readable(path);
  const int ret =
      is_url(path) ? open_url(format, path, options) : open_local(format, path, options);
  if (ret >= 0) refuse_text(format, path);
  if (ret == AVERROR_INVALIDDATA && !is_url(path) && looks_like_input_list(path)) {
    throw std::runtime_error("cannot open '" + path + "': " + libav::error_string(ret) +
                             " (it looks like a list of inputs: use --input-list)");
  }
  return ret;
}

}  // namespace framepipe::stages::network_input
