#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace framepipe {

// A throughput model of a run, in the spirit of Plumber's bound (Kuchnik et al., MLSys 2022):
// every resource caps the frames per second the pipeline can reach, and the tightest cap is
// what limits it. Each figure is per frame of the source, measured in the run being modelled.
struct ModelStage {
  std::string name;
  // Seconds its calls took per source frame, less their time waiting for a core: the time a
  // call holds a worker when a core is free.
  double service_s = 0;
  double workers = 1;     // calls that may run at once (serial: 1)
  bool in_arena = false;  // its calls hold a oneTBB thread
};

struct ModelInput {
  std::vector<ModelStage> stages;
  double arena_threads = 1;
  // Arena time per frame outside the stages' own calls (a sink's prepare(), conversions).
  double arena_extra_s = 0;
  double usable_cores = 1;  // the cores less what other processes took
  double cpu_s = 0;         // CPU per frame of the whole process, helper threads included
  double frames_in_flight = 1;
};

// One resource's cap on frames per second.
struct Bound {
  enum class Kind { stage, threads, cores, frames_in_flight };
  Kind kind = Kind::stage;
  std::optional<std::size_t> stage;  // for Kind::stage
  double fps = 0;
};

std::string to_string(Bound::Kind kind);

struct ModelPrediction {
  double fps = 0;  // the tightest bound's
  Bound limit;
  std::vector<Bound> bounds;  // every finite one
};

// The model's inputs as report.json keeps them (`throughput_model.input`), so that a tool
// reading a report can predict what a change would do (framepipe tune). from_json throws
// nlohmann::json::exception for a malformed object.
nlohmann::json to_json(const ModelInput& input);
ModelInput model_input_from_json(const nlohmann::json& json);

// The bounds:
// - a stage: its workers over its service time per frame;
// - the oneTBB threads: their number over the time per frame the stages in the arena hold one;
// - the cores: the usable cores over the process's CPU per frame;
// - frames in flight (Little's law): the cap over the time a frame takes through every stage
//   when nothing queues.
ModelPrediction predict(const ModelInput& input);

}  // namespace framepipe
