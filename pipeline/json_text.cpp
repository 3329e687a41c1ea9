#include "pipeline/json_text.h"

#include <cstdint>

namespace framepipe {

namespace {

constexpr std::string_view kMark = "\xEF\xBF\xBD";  // U+FFFD
constexpr char kHex[] = "0123456789ABCDEF";

// The length of the valid UTF-8 sequence at the start of `text` (RFC 3629: no overlong forms,
// no surrogates, nothing past U+10FFFF), or 0 when it does not start with one.
std::size_t valid_sequence(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  const auto continuation = [&](std::size_t i) {
    return i < text.size() && (byte(i) & 0xC0) == 0x80;
  };
  const std::uint8_t lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  std::uint8_t low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (!continuation(i)) return 0;
  }
  return length;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void escape_byte(std::string& out, std::uint8_t byte) {
  out += kMark;
  out += kHex[byte >> 4];
  out += kHex[byte & 0xF];
}

}  // namespace

std::string escape_invalid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const auto length = valid_sequence(bytes.substr(i));
    if (length == 0 || bytes.substr(i, length) == kMark) {
      // An invalid byte, or a U+FFFD of the name: byte by byte, so the marks stay unambiguous.
      const auto count = length == 0 ? 1 : length;
      for (std::size_t j = 0; j < count; ++j)
        escape_byte(out, static_cast<std::uint8_t>(bytes[i + j]));
      i += count;
    } else {
      out.append(bytes.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::string unescape_invalid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i, kMark.size()) == kMark && i + kMark.size() + 2 <= text.size()) {
      const int high = hex_value(text[i + kMark.size()]);
      const int low = hex_value(text[i + kMark.size() + 1]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += kMark.size() + 2;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace framepipe
