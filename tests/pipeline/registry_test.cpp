// Typed registration: what stage_info<T> deduces, and what Registry::add refuses at start-up.
#include "pipeline/registry.h"

#include <gtest/gtest.h>

#include "pipeline/config.h"

namespace framepipe::testing {
namespace {

class Phased : public SinkStage {
 public:
  FRAMEPIPE_PHASES(read, write);
  static inline const auto level =
      Param<int>::choice("level", {{"low", 1}, {"high", 9}}, "low", "how hard to try");
  static inline const auto size = Param<int>{"size", 4, "side in pixels"}.range(1, 64);
  static inline const Param<std::string> label{"label", "x", "a name"};

  explicit Phased(const Params& params) : level_(params[level]), size_(params[size]) {}
  void consume(Frame&) override {}
  int level_;
  int size_;
};

class Plain : public TransformStage {
 public:
  bool process(Frame&) override { return true; }
};

StageInfo phased_info() {
  return stage_info<Phased>({.type = "phased",
                             .summary = "test sink",
                             .example = "- { name: p, type: phased, params: { level: high } }",
                             .params = {Phased::level, Phased::size, Phased::label},
                             .helper_threads_phase = "write"});
}

TEST(RegistryTest, StageInfoDeducesKindPhasesAndFactory) {
  const auto info = phased_info();
  EXPECT_EQ(info.kind, StageKind::sink);
  EXPECT_EQ(info.phases, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(static_cast<std::size_t>(Phased::Phase::write), 1u) << "the index of its name";
  EXPECT_EQ(stage_info<Plain>({.type = "plain"}).kind, StageKind::transform);

  Registry registry;
  registry.add(info);
  const auto stage = load_stage_text("{type: phased, params: {level: high, size: 7}}", registry);
  const auto built = registry.find("phased")->create({"p", stage.params});
  const auto& phased = dynamic_cast<const Phased&>(*built);
  EXPECT_EQ(phased.level_, 9) << "a choice read as the value its name maps to";
  EXPECT_EQ(phased.size_, 7);
  EXPECT_EQ(stage.params[Phased::label], "x") << "the default";
}

TEST(RegistryTest, AddRefusesWhatWouldFailLater) {
  auto expect_refused = [](StageInfo info, const std::string& part) {
    Registry registry;
    try {
      registry.add(std::move(info));
      ADD_FAILURE() << "accepted; expected a refusal saying: " << part;
    } catch (const std::logic_error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      EXPECT_EQ(registry.find("phased"), nullptr) << "nothing half-registered";
    }
  };
  auto info = phased_info();
  info.helper_threads_phase = "encode";
  expect_refused(info, "helper_threads_phase 'encode' is not one of its phases");

  info = phased_info();
  info.example = "- { name: p, type: phased, params: { level: extreme } }";
  expect_refused(info, "'level' must be one of: low, high");

  info = phased_info();
  info.example = "- { name: p, type: other }";
  expect_refused(info, "does not validate");

  info = phased_info();
  info.example = "{ name: p, type: phased }";
  expect_refused(info, "is not a list of one stage entry");

  info = phased_info();
  info.params.push_back(Phased::size);
  expect_refused(info, "parameter 'size' declared twice");

  info = phased_info();
  info.params.push_back(
      ParamSpec::string("speed", "fast", "a ladder without rungs").speed_ladder({}));
  expect_refused(info, "'speed' has no ladder");
}

TEST(RegistryTest, TypedHandlesCheckWhatTheyRead) {
  // A narrow integer needs a range that fits it, or a value could not be read back.
  const Param<int> unbounded{"count", 1, "how many"};
  EXPECT_THROW((void)static_cast<ParamSpec>(unbounded), std::logic_error);
  EXPECT_NO_THROW((void)static_cast<ParamSpec>(Param<std::int64_t>{"count", 1, "how many"}));
  // A handle the stage did not list has no value to read.
  const Params params({{"size", ParamValue{std::int64_t{3}}}});
  EXPECT_EQ(params[Phased::size], 3);
  EXPECT_THROW((void)params[Phased::label], std::logic_error);
  EXPECT_THROW(phase_names("read, write = 3"), std::logic_error);
}

}  // namespace
}  // namespace framepipe::testing
