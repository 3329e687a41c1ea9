#include "pipeline/throughput_model.h"

#include <algorithm>
#include <limits>

namespace framepipe {

std::string to_string(Bound::Kind kind) {
  switch (kind) {
    case Bound::Kind::stage:
      return "stage";
    case Bound::Kind::threads:
      return "threads";
    case Bound::Kind::cores:
      return "cores";
    case Bound::Kind::frames_in_flight:
      return "frames_in_flight";
  }
  return "stage";
}

ModelPrediction predict(const ModelInput& input) {
  ModelPrediction prediction;
  auto add = [&](Bound::Kind kind, std::optional<std::size_t> stage, double capacity,
                 double seconds_per_frame) {
    if (seconds_per_frame > 0 && capacity > 0) {
      prediction.bounds.push_back({kind, stage, capacity / seconds_per_frame});
    }
  };
  double arena_s = input.arena_extra_s;
  double through_s = 0;
  for (std::size_t i = 0; i < input.stages.size(); ++i) {
    const auto& stage = input.stages[i];
    add(Bound::Kind::stage, i, stage.workers, stage.service_s);
    if (stage.in_arena) arena_s += stage.service_s;
    through_s += stage.service_s;
  }
  add(Bound::Kind::threads, std::nullopt, input.arena_threads, arena_s);
  add(Bound::Kind::cores, std::nullopt, input.usable_cores, input.cpu_s);
  add(Bound::Kind::frames_in_flight, std::nullopt, input.frames_in_flight, through_s);
  prediction.fps = std::numeric_limits<double>::infinity();
  for (const auto& bound : prediction.bounds) {
    if (bound.fps < prediction.fps) {
      prediction.fps = bound.fps;
      prediction.limit = bound;
    }
  }
  if (prediction.bounds.empty()) prediction.fps = 0;
  return prediction;
}

nlohmann::json to_json(const ModelInput& input) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& stage : input.stages) {
    stages.push_back({{"name", stage.name},
                      {"service_s", stage.service_s},
                      {"workers", stage.workers},
                      {"in_arena", stage.in_arena}});
  }
  return {{"stages", stages},
          {"arena_threads", input.arena_threads},
          {"arena_extra_s", input.arena_extra_s},
          {"usable_cores", input.usable_cores},
          {"cpu_s", input.cpu_s},
          {"frames_in_flight", input.frames_in_flight}};
}

ModelInput model_input_from_json(const nlohmann::json& json) {
  ModelInput input;
  for (const auto& stage : json.at("stages")) {
    input.stages.push_back({stage.at("name").get<std::string>(),
                            stage.at("service_s").get<double>(), stage.at("workers").get<double>(),
                            stage.at("in_arena").get<bool>()});
  }
  input.arena_threads = json.at("arena_threads").get<double>();
  input.arena_extra_s = json.at("arena_extra_s").get<double>();
  input.usable_cores = json.at("usable_cores").get<double>();
  input.cpu_s = json.at("cpu_s").get<double>();
  input.frames_in_flight = json.at("frames_in_flight").get<double>();
  return input;
}

}  // namespace framepipe
