#include "pipeline/report_dir.h"

#include <system_error>

#include "pipeline/suggest.h"
#include "pipeline/text_format.h"

namespace framepipe {

namespace {}  // namespace

std::string report_dir_problem(const std::string& pattern) {
  for (auto open = pattern.find('{'); open != std::string::npos; open = pattern.find('{', open)) {
    const auto close = pattern.find('}', open);
    if (close == std::string::npos) {
      return "a '{' that is never closed; the only placeholder is {run}";
    }
    const auto field = pattern.substr(open, close + 1 - open);
    if (field != kRunPlaceholder) {
      return "an unknown placeholder " + field + did_you_mean(field, {kRunPlaceholder}) +
             "; the only placeholder is {run}";
    }
    open = close + 1;
  }
  return "";
}

std::filesystem::path expand_report_dir(const std::string& pattern, std::time_t now) {
  if (pattern.find(kRunPlaceholder) == std::string::npos) return pattern;
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  std::filesystem::path path = replace_all(pattern, kRunPlaceholder, stamp);
  std::error_code unreadable;  // a folder whose existence cannot be read is taken as free
  for (int n = 2; std::filesystem::exists(path, unreadable); ++n) {
    path = replace_all(pattern, kRunPlaceholder, std::string(stamp) + "-" + std::to_string(n));
  }
  return path;
}

}  // namespace framepipe
