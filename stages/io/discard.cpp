// discard: drops every frame without reading its pixels, to measure what comes before it.
//   - { name: sink, type: discard }
#include "pipeline/stage.h"

namespace framepipe::stages {

namespace {

class Discard : public SinkStage {
 public:
  void consume(Frame&) override {}
};

}  // namespace

StageInfo discard_stage() {
  return stage_info<Discard>(
      {.type = "discard",
       .summary = "Drops frames without reading their pixels: measures the stages before it.",
       .example = "- { name: sink, type: discard }",
       .takes_items = true});
}

}  // namespace framepipe::stages
