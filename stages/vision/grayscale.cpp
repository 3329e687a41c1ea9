// grayscale: converts BGR frames to one 8-bit channel; gray frames pass unchanged.
//   - { name: gray, type: grayscale }
#include "pipeline/stage.h"
#include "stages/vision/gray.h"

namespace framepipe::stages {

namespace {

class Grayscale : public TransformStage {
 public:
  bool process(Frame& frame) override {
    frame.set_image(gray_of(frame));
    return true;
  }
};

}  // namespace

StageInfo grayscale_stage() {
  return stage_info<Grayscale>(
      {.type = "grayscale",
       .summary =
           "Converts BGR frames to 8-bit gray (cv::cvtColor BGR2GRAY). Straight after decode "
           "it computes that gray from the 8-bit YUV planes with no BGR conversion at all: "
           "a BT.601 source's luma plane, as `ffmpeg -pix_fmt gray` gives it; for other "
           "matrices (BT.709, BT.2020) the luma plus the share of Cb and Cr that BGR2GRAY's "
           "weights give (within a level of BGR2GRAY on average). A per-pixel linear map to gray: "
           "it runs before a channel-wise linear filter that feeds it "
           "([graph rewrites](config.md#graph-rewrites)).",
       .example = "- { name: gray, type: grayscale }",
       .pixel_properties = [](const Params&) {
         return PixelProperties{.linear_map_to_gray = true};
       }});
}

}  // namespace framepipe::stages
