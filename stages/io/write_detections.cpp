// write_detections: writes the frames' detections (and per-frame scalars) as JSON Lines.
//   - { name: json, type: write_detections, input: people, params: { path: "{stem}.jsonl" } }
#include "pipeline/json_text.h"
#include "pipeline/stage.h"
#include "stages/io/detection_records.h"
#include "stages/io/output_file.h"

namespace framepipe::stages {

namespace {

namespace fs = std::filesystem;

class WriteDetections : public SinkStage {
 public:
  static inline const Param<std::string> path{
      "path", "{stem}-detections.jsonl",
      "output file under output.dir; {stem} is the input's name without "
      "extension"};
  static inline const auto per = Param<std::string>::choice(
      "per", {"detection", "frame"}, "detection",
      "detection: one line per detection (file, frame, pts, time_s, stage, "
      "label, score, box {x,y,w,h}, scalars), none for frames without; "
      "frame: one line per frame (file, frame, pts, time_s, detections "
      "[...], scalars {...})");
  static inline const Param<std::string> from{
      "from", "", "write only the detections of this stage; empty = all"};

  explicit WriteDetections(const Params& params)
      : pattern_(params[path]), per_frame_(params[per] == "frame"), from_(params[from]) {}

  void open(const RunContext& context) override {
    input_ = context.input_path;
    output_.start(context, pattern_);
  }

  void consume(Frame& frame) override {
    // One write per frame, not per line.
    std::string lines;
    for (const auto& record : detection_records::records(frame, input_, per_frame_, from_)) {
      lines += dump_json(record) + '\n';
    }
    output_.write(lines);
  }

  void finish() override { output_.commit(); }

  void abort() noexcept override { output_.discard(); }

  std::vector<fs::path> outputs() const override { return output_.committed(); }

 private:
  std::string pattern_;
  bool per_frame_;
  std::string from_;
  std::string input_;
  output_file::PendingOutput output_;
};

}  // namespace

StageInfo write_detections_stage() {
  return stage_info<WriteDetections>(
      {.type = "write_detections",
       .resource = ResourceClass::io,
       .ordering = Ordering::serial_in_order,
       .summary =
           "Writes detections and per-frame scalars as JSON Lines, in frame order; renamed into "
           "place when complete.",
       .example = "- { name: json, type: write_detections, input: people }",
       .params = {WriteDetections::path, WriteDetections::per, WriteDetections::from},
       .output_names = output_file::named_by(WriteDetections::path)});
}

}  // namespace framepipe::stages
