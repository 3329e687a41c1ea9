#pragma once

#include <string>
#include <vector>

namespace framepipe {

struct Config;

// A change the engine made to a config's graph that keeps its output, up to rounding. The
// engine names no stage type: it moves stages by the PixelProperties they declare (stage.h).
//
// gray_before_filter: a per-pixel linear map to gray (BGR -> gray) that consumes a channel-wise
// linear filter (a Gaussian blur) is moved ahead of it, when the filter feeds nothing else:
// the filter then works on one channel instead of three, and the map may take its gray straight
// from the decoder's luma plane when it now comes right after the source. Both orders compute
// the same sums, so the outputs differ by rounding alone.
struct GraphRewrite {
  std::string name;    // which rewrite ("gray_before_filter")
  std::string moved;   // the stage that now runs earlier
  std::string before;  // the stage it now runs before
  std::string effect;  // what it saves, in a phrase
  // "gray_before_filter: 'gray' now runs before 'blur', which filters one gray channel instead
  // of three"
  std::string text() const;
};

// Makes every rewrite that fits, repeatedly, while config.rewrites allows them: reorders
// config.stages (and their inputs), records each in config.rewrites_made and keeps the order as
// written in config.written_stages. Expects a validated config.
void apply_rewrites(Config& config);

}  // namespace framepipe
