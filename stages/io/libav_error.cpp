#include "stages/io/libav_error.h"

#include <cstdarg>
#include <mutex>
#include <stdexcept>
#include <utility>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace framepipe::stages::libav {

std::string error_string(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

int check(int code, const std::string& what) {
  if (code < 0) throw std::runtime_error(what + ": " + error_string(code));
  return code;
}

namespace {

thread_local std::string last_logged_error;

extern "C" void remember_errors(void* context, int level, const char* format, va_list args) {
  if (level <= AV_LOG_ERROR) {
    va_list copy;
    va_copy(copy, args);
    char line[512];
    int print_prefix = 0;  // no "[tls @ 0x…]"
    av_log_format_line(context, level, format, copy, line, sizeof line, &print_prefix);
    va_end(copy);
    last_logged_error = line;
    while (!last_logged_error.empty() &&
           (last_logged_error.back() == '\n' || last_logged_error.back() == ' ')) {
      last_logged_error.pop_back();
    }
  }
  av_log_default_callback(context, level, format, args);
}

}  // namespace

void quiet_logging() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_FATAL);
    av_log_set_callback(remember_errors);
  });
}

std::string take_last_logged_error() { return std::exchange(last_logged_error, {}); }

}  // namespace framepipe::stages::libav
