// write_detections: writes the frames' detections (and per-frame scalars) as JSON Lines.
//   - { name: json, type: write_detections, input: people, params: { path: "{stem}.jsonl" } }
#include <fstream>

#include "pipeline/stage.h"
#include "stages/io/detection_records.h"
#include "stages/io/output_file.h"

namespace framepipe::stages {

namespace {

namespace fs = std::filesystem;

class WriteDetections : public SinkStage {
 public:
  explicit WriteDetections(const Params& params)
      : pattern_(params.string("path")),
        per_frame_(params.string("per") == "frame"),
        from_(params.string("from")) {}
  ~WriteDetections() override { discard(); }

  void open(const RunContext& context) override {
    input_ = context.input_path;
    output_.start(context, pattern_);
    out_.open(output_.temp_path());
    if (!out_) throw std::runtime_error("cannot write '" + output_.final_path().string() + "'");
  }

  void consume(Frame& frame) override {
    for (const auto& record : detection_records::records(frame, input_, per_frame_, from_)) {
      out_ << record.dump() << '\n';
    }
    if (!out_) throw std::runtime_error("cannot write '" + output_.final_path().string() + "'");
  }

  void finish() override {
    out_.close();
    if (out_.fail())
      throw std::runtime_error("cannot write '" + output_.final_path().string() + "'");
    output_.commit();
  }

  void abort() noexcept override { discard(); }

  std::vector<fs::path> outputs() const override { return output_.committed(); }

 private:
  void discard() noexcept {
    if (out_.is_open()) out_.close();
    output_.discard();
  }

  std::string pattern_;
  bool per_frame_;
  std::string from_;
  std::string input_;
  output_file::PendingOutput output_;
  std::ofstream out_;
};

}  // namespace

StageInfo write_detections_stage() {
  return {
      .type = "write_detections",
      .kind = StageKind::sink,
      .resource = ResourceClass::io,
      .ordering = Ordering::serial_in_order,
      .summary =
          "Writes detections and per-frame scalars as JSON Lines, in frame order; renamed into "
          "place when complete.",
      .example = "- { name: json, type: write_detections, input: people }",
      .params =
          {ParamSpec::string("path", "{stem}-detections.jsonl",
                             "output file under output.dir; {stem} is the input's name without "
                             "extension"),
           ParamSpec::choice("per", {"detection", "frame"}, "detection",
                             "detection: one line per detection (file, frame, pts, time_s, stage, "
                             "label, score, box {x,y,w,h}, scalars), none for frames without; "
                             "frame: one line per frame (file, frame, pts, time_s, detections "
                             "[...], scalars {...})"),
           ParamSpec::string("from", "", "write only the detections of this stage; empty = all")},
      .create =
          [](const StageSetup& setup) { return std::make_unique<WriteDetections>(setup.params); },
      .output_names = output_file::named_by_path};
}

}  // namespace framepipe::stages
