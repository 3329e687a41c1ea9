#include "stages/io/libav_error.h"

#include <mutex>
#include <stdexcept>

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

void quiet_logging() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_FATAL); });
}

}  // namespace framepipe::stages::libav
