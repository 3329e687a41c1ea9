#pragma once

#include <array>
#include <cstdio>
#include <string>

namespace framepipe {

// printf-style text for the report's sentences and tables; 512 characters at most, which every
// pattern here stays under.
std::string format(const char* pattern, auto... args) {
  std::array<char, 512> buffer{};
  std::snprintf(buffer.data(), buffer.size(), pattern, args...);
  return buffer.data();
}

// A share in [0, 1] as a whole percentage: 0.425 -> "42%".
inline std::string percent(double share) { return format("%.0f%%", share * 100); }

// `text` with every `from` replaced by `to`, left to right, not rescanning what was put in.
inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace framepipe
