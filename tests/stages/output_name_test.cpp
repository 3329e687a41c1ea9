// Output names from a template: the batch's outputs must not collide and must say what they are.
#include <gtest/gtest.h>

#include <fstream>

#include "stages/io/output_file.h"

namespace framepipe::stages::output_file {
namespace {

TEST(OutputName, TemplateFieldsComeFromTheInputAndTheStage) {
  RunContext context;
  context.input_path = "videos/day one/clip.final.MOV";
  context.output_dir = "out/day one";
  context.stage_name = "people";
  EXPECT_EQ(resolve(context, "{stem}-{stage}.{ext}.jsonl"),
            fs::path("out/day one/clip.final-people.MOV.jsonl"));
  EXPECT_EQ(resolve(context, "{stem}/{stem}.mp4"),
            fs::path("out/day one/clip.final/clip.final.mp4"));
  context.input_path = "noext";
  EXPECT_EQ(resolve(context, "{stem}{ext}.mkv"), fs::path("out/day one/noext.mkv"));
}

TEST(OutputName, PendingOutputOnlyEverShowsTheFinalNameComplete) {
  const auto dir = fs::temp_directory_path() / ("framepipe-pending-" + std::to_string(getpid()));
  RunContext context;
  context.input_path = "clip.mp4";
  context.output_dir = dir;
  {
    PendingOutput output;
    output.start(context, "{stem}.txt");
    std::ofstream(output.temp_path()) << "half";
    EXPECT_FALSE(fs::exists(dir / "clip.txt"));
    EXPECT_TRUE(output.committed().empty());
  }
  EXPECT_TRUE(fs::is_empty(dir)) << "an output neither committed nor discarded is removed";
  PendingOutput output;
  output.start(context, "{stem}.txt");
  std::ofstream(output.temp_path()) << "whole";
  output.commit();
  EXPECT_EQ(output.committed(), std::vector<fs::path>{dir / "clip.txt"});
  context.overwrite = false;
  PendingOutput again;
  EXPECT_THROW(again.start(context, "{stem}.txt"), std::runtime_error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace framepipe::stages::output_file
