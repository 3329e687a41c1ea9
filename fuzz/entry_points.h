#pragma once

// What the fuzz targets feed arbitrary bytes through, shared with
// tests/reliability/fuzz_corpus_test.cpp, which replays every committed corpus file (seeds and
// the inputs of crashes found and fixed) through the same code in the normal test suite. Each
// returns normally for an input framepipe handles: a valid one, or one it rejects with the
// error a user would see. A crash, an abort, a sanitizer report or another exception is a bug.
// What they return is what became of the input, which the test compares with each corpus
// file's documented outcome; the fuzz targets ignore it.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/report.h"
#include "pipeline/stage.h"
#include "pipeline/summary.h"
#include "stages/register_all.h"

namespace framepipe::fuzz {

inline const Registry& registry() {
  static const Registry registry = [] {
    Registry r;
    stages::register_all(r);
    return r;
  }();
  return registry;
}

// What an entry point made of its input: `error` is the first line a user would see when it was
// rejected (empty when it was accepted); `result` is what came of it (the effective config, the
// comparison), possibly partial when it was rejected along the way.
struct Outcome {
  std::string error{};
  std::string result{};
  int frames = 0;  // decode_file: frames decoded and converted to BGR
  bool accepted() const { return error.empty(); }
};

// The bytes up to the first NUL are a YAML config, each NUL-separated part after it a --set
// override. Only a ConfigError may come out of loading.
inline Outcome load_config(const std::string& bytes) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const auto end = bytes.find('\0', start);
    parts.push_back(bytes.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  const std::vector<std::string> overrides(parts.begin() + 1, parts.end());
  try {
    const auto config = load_config_text(parts.front(), "fuzz.yaml", overrides, registry());
    return {.result = effective_yaml(config)};
  } catch (const ConfigError& error) {
    return {.error = error.what()};
  }
}

// Enough frames to reach a decoder's steady state; the seed clips have 3 or 4.
inline constexpr int kMaxDecodedFrames = 64;

// The file at `path` through the decode stage, every frame converted to BGR as the first stage
// reading it would. A std::exception is the clear error a bad file gives.
inline Outcome decode_file(const std::filesystem::path& path) {
  static const auto stage_config =
      load_stage_text("{type: decode, params: {threads: 1}}", registry());
  auto stage = stage_config.info->create({stage_config.name, stage_config.params});
  auto& source = static_cast<SourceStage&>(*stage);
  Outcome outcome;
  try {
    source.open({path.string(), std::filesystem::temp_directory_path(), false});
    for (; outcome.frames < kMaxDecodedFrames; ++outcome.frames) {
      auto frame = source.next();
      if (!frame) break;
      (void)frame->image();
    }
    source.finish();
  } catch (const std::exception& error) {
    outcome.error = error.what();
    source.abort();
  }
  return outcome;
}

// The bytes as two report.json files (split at the first NUL; A twice when there is none)
// through `report compare` and `report show`, after the checks read_report() makes. The
// commands turn a std::exception into a one-line error.
inline Outcome compare_reports(const std::string& bytes) {
  const auto split = bytes.find('\0');
  const auto a = nlohmann::json::parse(bytes.substr(0, split), nullptr, false);
  const auto b = split == std::string::npos
                     ? a
                     : nlohmann::json::parse(bytes.substr(split + 1), nullptr, false);
  if (a.is_discarded() || b.is_discarded()) return {.error = "not valid JSON"};
  try {
    for (const auto* report : {&a, &b}) {
      if (!report->is_object() || report->value("schema", "") != kReportSchema) {
        return {.error = "not a " + std::string(kReportSchema) + " report"};
      }
    }
    return {.result = format_comparison(a, b) + format_summary(a)};
  } catch (const std::exception& error) {
    return {.error = error.what()};
  }
}

}  // namespace framepipe::fuzz
