#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "pipeline/frame.h"
#include "pipeline/params.h"
#include "pipeline/profiler.h"
#include "pipeline/side_data.h"

namespace framepipe {

enum class StageKind { source, transform, sink };
// Where a stage runs: `io` stages get dedicated threads so a blocking read or write never
// occupies a oneTBB worker; `cpu` stages run inside the oneTBB arena. Sources always run on
// a dedicated thread of their own, whatever their class.
enum class ResourceClass { io, cpu };
// oneTBB's vocabulary: `parallel` stages may see many frames at once; `serial_in_order` ones
// see one frame at a time in index order (encoders, trackers); `serial_out_of_order` ones see
// one at a time in any order.
enum class Ordering { parallel, serial_in_order, serial_out_of_order };

const char* to_string(StageKind kind);
const char* to_string(ResourceClass resource);
const char* to_string(Ordering ordering);

// What a stage gets when it is opened for one run.
// The part of its input a run covers (`input.start`, `input.duration`, `input.frames`): a run
// over a sample of a long video. The source starts at `start_s` and ends `duration_s` later
// (0: at the input's end); the engine stops asking it for frames after `frames` (0: no cap).
struct InputWindow {
  double start_s = 0;
  double duration_s = 0;
  std::int64_t frames = 0;
  bool whole() const { return start_s <= 0 && duration_s <= 0 && frames <= 0; }
};

struct RunContext {
  std::string input_path;            // the media file this run reads
  std::filesystem::path output_dir;  // where sinks write
  bool overwrite = false;            // sinks may replace existing outputs
  StageMetrics* metrics = nullptr;   // for ScopedPhase; null outside the engine
  std::string stage_name{};          // this stage's name in the config, for output names
  // Set when the run is being cancelled (SIGINT): a stage blocked in a long wait (a network
  // read) checks it and gives up. Null when nothing can cancel the run.
  const std::atomic<bool>* cancel = nullptr;
  // The run's side data (pipeline/side_data.h), shared by its stages: what the source publishes
  // for later stages. Null when the stage runs alone (a unit test without one).
  SideData* side_data = nullptr;
  InputWindow window{};  // what part of the input the source gives
  // Set in a run over many items (pipeline/item.h; only for stages whose StageInfo::takes_items
  // says they can): input_path is empty, the source asks this for each item and tags its frames
  // with it (Frame::item), and sinks name each frame's outputs from frame.item.
  const NextItem* next_item = nullptr;
  // input.fps: the frame rate of a numbered image sequence (frames/%06d.png); 0: libav's 25.
  double sequence_fps = 0;
};

// The threading contract, written once:
// - open() and finish() / abort() are called on one thread, before and after all frames;
// - a `parallel` stage's process()/consume() may run on many threads at once, so it keeps no
//   mutable state; a `serial_*` stage's never runs concurrently with itself;
// - an exception thrown from any call stops the run; the engine then calls abort() (never
//   finish()) on every opened stage, which must remove partial outputs and not throw.
class Stage {
 public:
  virtual ~Stage() = default;
  virtual void open(const RunContext& context) { (void)context; }
  // End of stream: flush and commit outputs (rename temporary files to their final name).
  virtual void finish() {}
  // The run failed: discard everything this stage would have written.
  virtual void abort() noexcept {}
  // The files this stage committed in finish(), for the user to find.
  virtual std::vector<std::filesystem::path> outputs() const { return {}; }
  // Figures the stage counted over the run, for the report ("frames": 300); those the engine
  // reads itself are named in `counter` below.
  virtual std::map<std::string, double> counters() const { return {}; }
};

// Counters the engine reads from counters() (a batch's outcome per file): a stage that knows
// these figures fills them under these names.
namespace counter {
// Frames the input should hold, from its container's header; 0 when it does not say.
inline const std::string expected_frames = "expected_frames";
// Packets the source found damaged and skipped: a file with any is reported as damaged.
inline const std::string damaged_packets = "damaged_packets";
// The source's frames per second, for a progress display's speed; 0 when it does not say.
inline const std::string frame_rate = "frame_rate";
}  // namespace counter

class SourceStage : public Stage {
 public:
  // The next frame, or nullopt at end of stream. index, pts and time base are set by the
  // source; the engine owns the rest.
  virtual std::optional<Frame> next() = 0;
};

class TransformStage : public Stage {
 public:
  // Returns false to drop the frame.
  virtual bool process(Frame& frame) = 0;
};

class SinkStage : public Stage {
 public:
  // Per-frame work that needs none of the stage's mutable state (an encoder's pixel-format
  // conversion). When StageInfo::prepares is set the engine calls it on the oneTBB workers, on
  // many frames at once, before the frame reaches consume() — so a serial sink's serial path
  // keeps only what must be serial. It leaves its result in Frame::prepared.
  virtual void prepare(Frame& frame) const { (void)frame; }
  virtual void consume(Frame& frame) = 0;
};

// What a transform's arithmetic guarantees, read by the engine's graph rewrites
// (pipeline/rewrite.h), which move stages only by these properties. A stage claims a property
// only where it holds for the parameters it was given.
struct PixelProperties {
  // Each output pixel is one 8-bit gray value, the same fixed linear combination of the same
  // input pixel's colour channels (BGR -> gray), rounded; a gray frame passes unchanged.
  bool linear_map_to_gray = false;
  // Each channel is filtered on its own by the same linear filter, with non-negative weights so
  // nothing clips (a Gaussian blur): it commutes with a per-pixel linear map of the channels up
  // to rounding, and filters a one-channel frame as it filters each of three.
  bool channelwise_linear_filter = false;
};

// What the factory gets: the instance's name and its validated parameters.
struct StageSetup {
  std::string name;
  Params params;
};

// The static description of a stage type: read by validation, `framepipe stages` and the
// docs before anything is opened.
struct StageInfo {
  std::string type;
  StageKind kind = StageKind::transform;
  ResourceClass resource = ResourceClass::cpu;
  Ordering ordering = Ordering::parallel;
  std::string summary{};  // one line
  std::string example{};  // a YAML stage entry a user can paste
  std::vector<ParamSpec> params{};
  std::vector<std::string> phases{};  // named parts of its time, for ScopedPhase
  bool prepares = false;  // a sink whose prepare() the engine runs in parallel before consume()
  // The phase whose work runs on threads the stage starts (libav's decoder threads do
  // decode's "decode"): their CPU time is counted in that phase.
  std::string helper_threads_phase{};
  std::function<std::unique_ptr<Stage>(const StageSetup&)> create{};
  // Checks that span parameters or need more than a range ("ksize must be odd"); returns one
  // message per problem. Runs during config validation: it may load a small file the stage
  // needs (a cascade, a model) to prove it usable, but never opens media.
  std::function<std::vector<std::string>(const Params&)> check{};
  // The name templates of the files a sink writes for each input, under the output folder
  // ("{stem}-edges.mp4"; see expand_output_name in pipeline/output_names.h), so that two inputs
  // that would write one file, or an output that is an input, are found before a batch starts.
  // Empty for stages that write no file of their own per input.
  std::function<std::vector<std::string>(const Params&)> output_names{};
  // The templates it uses instead for an input that is an image (is_image_name in
  // pipeline/inputs.h): an image sink writes an image under its own name ("{stem}.{ext}").
  // Unset: output_names for every input.
  std::function<std::vector<std::string>(const Params&)> image_output_names{};
  // The fields of those templates the stage fills in itself, besides the engine's {stem}, {ext}
  // and {stage}: "frame" for {frame} and {frame:06}. Validation refuses any other field.
  std::vector<std::string> name_fields{};
  // The stage works in a run over many items (RunContext::next_item): a source that reads each
  // item it is given, a sink that names its outputs by each frame's item and commits them as it
  // goes. Parallel transforms keep no state and need not say so.
  bool takes_items = false;
  // A transform's PixelProperties under the given parameters; unset: none.
  std::function<PixelProperties(const Params&)> pixel_properties{};

  const ParamSpec* find_param(const std::string& name) const;
  // The first parameter with this role, or null.
  const ParamSpec* find_role(ParamRole role) const;
};

// Declares a stage class's phases (StageInfo::phases), the named parts of its time, as
// `enum class Phase` for ScopedPhase: `FRAMEPIPE_PHASES(demux, decode);`. stage_info<T> takes
// the names from the same list, so every Phase value is a declared phase.
#define FRAMEPIPE_PHASES(...)                     \
  enum class Phase : std::size_t { __VA_ARGS__ }; \
  static constexpr std::string_view phase_list = #__VA_ARGS__

// "demux, decode" -> {"demux", "decode"}; throws std::logic_error on an enumerator with a value
// of its own ("demux = 2"), which would break the enum-to-index mapping.
std::vector<std::string> phase_names(std::string_view phase_list);

// Completes the registration of stage class T: its kind from its base class, its phases from
// FRAMEPIPE_PHASES, and, unless `info.create` is set, a factory that constructs T from its
// StageSetup, from its Params, or from nothing, whichever T takes.
template <typename T>
StageInfo stage_info(StageInfo info) {
  if constexpr (std::is_base_of_v<SourceStage, T>) {
    info.kind = StageKind::source;
  } else if constexpr (std::is_base_of_v<SinkStage, T>) {
    info.kind = StageKind::sink;
  } else {
    static_assert(std::is_base_of_v<TransformStage, T>,
                  "a stage derives from SourceStage, TransformStage or SinkStage");
    info.kind = StageKind::transform;
  }
  if constexpr (requires { T::phase_list; }) info.phases = phase_names(T::phase_list);
  if (!info.create) {
    info.create = [](const StageSetup& setup) -> std::unique_ptr<Stage> {
      if constexpr (std::is_constructible_v<T, const StageSetup&>) {
        return std::make_unique<T>(setup);
      } else if constexpr (std::is_constructible_v<T, const Params&>) {
        return std::make_unique<T>(setup.params);
      } else {
        return std::make_unique<T>();
      }
    };
  }
  return info;
}

}  // namespace framepipe
