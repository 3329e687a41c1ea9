#pragma once

// Text the tool prints or writes that came from outside (file names, URLs, library messages):
// made safe to show. Every line printed and every report written goes through these.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace framepipe {

// `text` with the password of every URL in it ("scheme://user:secret@host") replaced by
// "***": "http://user:***@host/clip.mp4".
std::string redact_credentials(std::string_view text);
// Every string in `json` (values and keys) with redact_credentials applied.
nlohmann::json redact_json_credentials(const nlohmann::json& json);

// `text` with control characters escaped ("\n", "\r", "\t", "\x1b", "\x7f"…), so a file name
// can neither start a new line nor send a terminal escape sequence.
std::string printable(std::string_view text);

// What a line may show of outside text: printable(redact_credentials(text)).
std::string safe_line(std::string_view text);

}  // namespace framepipe
