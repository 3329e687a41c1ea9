#pragma once

// Opening an input that may be an http:// or https:// URL (libav's own protocols): a timeout
// on every read and connect, libav's reconnect with backoff when a transfer breaks mid-file,
// and retries with backoff when opening fails for a reason that may pass (a timeout, a
// refused connection, a 5xx answer). Local paths open exactly as before; "-" is standard input.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
}

#include "pipeline/inputs.h"
#include "pipeline/params.h"

namespace framepipe::stages::network_input {

inline bool is_url(const std::string& path) {
  return path.starts_with("http://") || path.starts_with("https://");
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

struct Options {
  int timeout_ms = 30000;
  int retries = 3;
  // When set, a cancelled run (SIGINT) interrupts waiting for the network at once.
  const std::atomic<bool>* cancel = nullptr;
};

inline Options options_from(const Params& params) { return {params[timeout_ms], params[retries]}; }

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

// avformat_open_input(), with the options above when `path` is a URL; "-" is standard input, as
// for the ffmpeg CLI. Returns libav's error
// code, like avformat_open_input; on failure *format is null. A URL's context keeps the
// interrupt callback, so its later reads stop when the run is cancelled too.
inline int open(AVFormatContext** format, const std::string& path, const Options& options) {
  if (framepipe::is_standard_input(path)) {
    // A read blocked on an idle pipe stops when the run is cancelled.
    *format = avformat_alloc_context();
    if (!*format) return AVERROR(ENOMEM);
    (*format)->interrupt_callback = {interrupt_callback,
                                     const_cast<std::atomic<bool>*>(options.cancel)};
    return avformat_open_input(format, "pipe:0", nullptr, nullptr);
  }
  if (!is_url(path)) return avformat_open_input(format, path.c_str(), nullptr, nullptr);
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
    av_dict_set(&settings, "rw_timeout",
                std::to_string(static_cast<long long>(options.timeout_ms) * 1000).c_str(), 0);
    if (options.retries > 0) {
      av_dict_set(&settings, "reconnect", "1", 0);
      av_dict_set(&settings, "reconnect_delay_max", reconnect_delay_max(options.retries).c_str(),
                  0);
    }
    ret = avformat_open_input(format, path.c_str(), nullptr, &settings);
    av_dict_free(&settings);
    if (ret >= 0 || !transient(ret) || cancel_requested(options.cancel)) {
      return ret;
    }
  }
  return ret;
}

}  // namespace framepipe::stages::network_input
