// Graph rewrites (pipeline/rewrite.h): which graphs the engine reorders, by the properties the
// stages declare, and which it leaves alone because the move would change the output; that
// `pipeline.rewrites: false` keeps the order as written; that the effective config names each
// rewrite and loads back to the same graph. The output the rewrite keeps is checked against the
// unrewritten graph's by the ffmpeg CLI in tests/app/rewrite_output_test.cpp.
#include "pipeline/rewrite.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/manifest.h"
#include "stages/register_all.h"

namespace framepipe {
namespace {

class RewriteTest : public ::testing::Test {
 protected:
  RewriteTest() { stages::register_all(registry_); }

  Config load(const std::string& stages, const std::vector<std::string>& overrides = {}) {
    return load_config_text("input: in.mp4\nstages:\n" + stages, "x.yaml", overrides, registry_);
  }

  // "name<-input" for each stage, in the order they run.
  static std::vector<std::string> wiring(const Config& config) {
    std::vector<std::string> edges;
    for (const auto& stage : config.stages) edges.push_back(stage.name + "<-" + stage.input);
    return edges;
  }

  Registry registry_;
};

const std::string kDecode = "  - {name: decode, type: decode}\n";
const std::string kBlur = "  - {name: blur, type: gaussian_blur}\n";
const std::string kGray = "  - {name: gray, type: grayscale}\n";
const std::string kEdges = "  - {name: edges, type: canny}\n";
const std::string kVideo = "  - {name: video, type: encode}\n";

TEST_F(RewriteTest, GrayMapMovesAheadOfTheBlurThatFeedsIt) {
  const auto config = load(kDecode + kBlur + kGray + kEdges + kVideo);
  EXPECT_EQ(wiring(config), (std::vector<std::string>{"decode<-", "gray<-decode", "blur<-gray",
                                                      "edges<-blur", "video<-edges"}));
  ASSERT_EQ(config.rewrites_made.size(), 1u);
  EXPECT_EQ(config.rewrites_made[0].name, "gray_before_filter");
  EXPECT_EQ(config.rewrites_made[0].moved, "gray");
  EXPECT_EQ(config.rewrites_made[0].before, "blur");
}

TEST_F(RewriteTest, ConvertColorToGrayMovesButToAnotherSpaceDoesNot) {
  const auto gray =
      load(kDecode + kBlur + "  - {name: g, type: convert_color, params: {to: gray}}\n" + kVideo);
  EXPECT_EQ(wiring(gray),
            (std::vector<std::string>{"decode<-", "g<-decode", "blur<-g", "video<-blur"}));
  const auto hsv =
      load(kDecode + kBlur + "  - {name: g, type: convert_color, params: {to: hsv}}\n" + kVideo);
  EXPECT_TRUE(hsv.rewrites_made.empty());
  EXPECT_EQ(wiring(hsv),
            (std::vector<std::string>{"decode<-", "blur<-decode", "g<-blur", "video<-g"}));
}

TEST_F(RewriteTest, GrayMovesPastEveryLinearFilterInARow) {
  const auto config =
      load(kDecode + kBlur + "  - {name: blur2, type: gaussian_blur}\n" + kGray + kVideo);
  EXPECT_EQ(wiring(config), (std::vector<std::string>{"decode<-", "gray<-decode", "blur<-gray",
                                                      "blur2<-blur", "video<-blur2"}));
  ASSERT_EQ(config.rewrites_made.size(), 2u);
  EXPECT_EQ(config.rewrites_made[0].before, "blur2");
  EXPECT_EQ(config.rewrites_made[1].before, "blur");
}

TEST_F(RewriteTest, SwitchedOffTheStagesRunAsWritten) {
  const auto config = load(kDecode + kBlur + kGray + kEdges + kVideo, {"pipeline.rewrites=false"});
  EXPECT_FALSE(config.rewrites);
  EXPECT_TRUE(config.rewrites_made.empty());
  EXPECT_EQ(wiring(config), (std::vector<std::string>{"decode<-", "blur<-decode", "gray<-blur",
                                                      "edges<-gray", "video<-edges"}));
  EXPECT_EQ(effective_yaml(config).find("# rewrite"), std::string::npos);
  // A different output (by rounding), so a different fingerprint for --resume.
  EXPECT_NE(config_fingerprint(config),
            config_fingerprint(load(kDecode + kBlur + kGray + kEdges + kVideo)));
}

// A stage between the two, or a second reader of the blurred colour frame, or a filter that is
// not linear: moving the gray map would change what some stage sees.
TEST_F(RewriteTest, NotRewrittenWhereTheMoveWouldChangeTheOutput) {
  const std::vector<std::string> graphs = {
      // Non-linear in between: thresholds applied per channel differ from one on the gray.
      kDecode + kBlur + "  - {name: t, type: threshold}\n" + kGray + kVideo,
      // A stage that reads colour in between (draws coloured text).
      kDecode + kBlur + "  - {name: text, type: overlay_text}\n" + kGray + kVideo,
      // The blurred colour frame goes to a second sink too.
      kDecode + kBlur + kGray + kVideo +
          "  - {name: colour, type: encode, input: blur, params: {path: '{stem}-colour.mp4'}}\n",
      // A median is not linear.
      kDecode + "  - {name: blur, type: median_blur}\n" + kGray + kVideo,
      // Gray first already.
      kDecode + kGray + kBlur + kVideo,
  };
  for (const auto& graph : graphs) {
    const auto config = load(graph);
    EXPECT_TRUE(config.rewrites_made.empty()) << graph;
    EXPECT_TRUE(config.written_stages.empty()) << graph;
  }
}

// The effective config lists the stages as written and names the rewrite in a comment; loaded
// again, it makes the same graph and the same rewrite.
TEST_F(RewriteTest, EffectiveConfigNamesTheRewriteAndLoadsToTheSameGraph) {
  const auto config = load(kDecode + kBlur + kGray + kEdges + kVideo);
  const auto yaml = effective_yaml(config);
  EXPECT_NE(yaml.find("# rewrite gray_before_filter: 'gray' now runs before 'blur'"),
            std::string::npos)
      << yaml;
  const auto stages = config_json(config)["stages"];
  ASSERT_EQ(stages.size(), 5u);
  EXPECT_EQ(stages[1]["name"], "blur");
  EXPECT_EQ(stages[2]["name"], "gray");
  EXPECT_EQ(stages[2]["input"], "blur");

  const auto again = load_config_text(yaml, "effective.yaml", {}, registry_);
  EXPECT_EQ(wiring(again), wiring(config));
  ASSERT_EQ(again.rewrites_made.size(), 1u);
  EXPECT_EQ(again.rewrites_made[0].text(), config.rewrites_made[0].text());
  EXPECT_EQ(config_fingerprint(again), config_fingerprint(config));
}

// The consumers of the moved gray map read the filter instead, wherever they are listed.
TEST_F(RewriteTest, LaterReadersOfTheGrayMapReadTheFilter) {
  const auto config =
      load(kDecode + kBlur + kGray + kVideo +
           "  - {name: edges, type: canny, input: gray}\n"
           "  - {name: edge_video, type: encode, params: {path: '{stem}-e.mp4'}}\n");
  EXPECT_EQ(wiring(config),
            (std::vector<std::string>{"decode<-", "gray<-decode", "blur<-gray", "video<-blur",
                                      "edges<-blur", "edge_video<-edges"}));
}

}  // namespace
}  // namespace framepipe
