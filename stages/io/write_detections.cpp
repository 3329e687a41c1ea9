// write_detections: writes the frames' detections (and per-frame scalars) as JSON Lines.
//   - { name: json, type: write_detections, input: people, params: { path: "{stem}.jsonl" } }
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pipeline/stage.h"
#include "stages/io/output_file.h"

namespace framepipe::stages {

namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

// Six significant decimals are what a detector's score or a motion measure mean; without the
// rounding a float score prints as 1.0049899816513062.
double rounded(double value) { return std::round(value * 1e6) / 1e6; }

double seconds(const Frame& frame) {
  if (frame.time_base.valid()) return frame.pts * frame.time_base.value();
  if (frame.frame_rate.valid()) return frame.index / frame.frame_rate.value();
  return 0;
}

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
    ordered_json record = {{"file", input_},
                           {"frame", frame.index},
                           {"pts", frame.pts},
                           {"time_s", rounded(seconds(frame))}};
    ordered_json scalars = ordered_json::object();
    for (const auto& [name, value] : frame.scalars) scalars[name] = rounded(value);

    if (per_frame_) {
      ordered_json detections = ordered_json::array();
      for (const auto& detection : frame.detections) {
        if (wanted(detection)) detections.push_back(describe(detection));
      }
      record["detections"] = std::move(detections);
      record["scalars"] = std::move(scalars);
      write(record);
      return;
    }
    for (const auto& detection : frame.detections) {
      if (!wanted(detection)) continue;
      auto line = record;
      line.update(describe(detection));
      line["scalars"] = scalars;
      write(line);
    }
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
  bool wanted(const Detection& detection) const {
    return from_.empty() || detection.stage == from_;
  }

  static ordered_json describe(const Detection& detection) {
    return {{"stage", detection.stage},
            {"label", detection.label},
            {"score", rounded(detection.score)},
            {"box",
             {{"x", detection.box.x},
              {"y", detection.box.y},
              {"w", detection.box.width},
              {"h", detection.box.height}}}};
  }

  void write(const ordered_json& record) {
    out_ << record.dump() << '\n';
    if (!out_) throw std::runtime_error("cannot write '" + output_.final_path().string() + "'");
  }

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
      .create = [](const StageSetup& setup) {
        return std::make_unique<WriteDetections>(setup.params);
      }};
}

}  // namespace framepipe::stages
