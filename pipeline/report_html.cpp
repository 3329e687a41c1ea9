#include "pipeline/report_html.h"

#include "pipeline/json_text.h"
#include "pipeline/report_html_assets.h"

namespace framepipe {

namespace {

static_assert(kReportHtmlTemplate.find(kReportJsonMarker) != std::string_view::npos);

// The JSON sits inside <script>, whose content ends at the first "</script" and which "<!--"
// can throw into another parsing state; so '<', '>' and '&' must not appear literally. In JSON
// they can only occur inside strings, where the \u escapes mean the same characters.
std::string script_safe_json(const nlohmann::json& report) {
  // Invalid UTF-8 (a file name is any bytes on Linux) is escaped reversibly (json_text.h).
  const std::string text = dump_json(report);
  std::string safe;
  safe.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '<':
        safe += "\\u003c";
        break;
      case '>':
        safe += "\\u003e";
        break;
      case '&':
        safe += "\\u0026";
        break;
      default:
        safe += c;
    }
  }
  return safe;
}

}  // namespace

std::string render_html_report(const nlohmann::json& report) {
  const auto at = kReportHtmlTemplate.find(kReportJsonMarker);
  std::string html(kReportHtmlTemplate.substr(0, at));
  html += script_safe_json(report);
  html += kReportHtmlTemplate.substr(at + kReportJsonMarker.size());
  return html;
}

}  // namespace framepipe
