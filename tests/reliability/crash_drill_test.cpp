// The fail stage's `crash` drill: at its frame it takes the whole process down, as a bug in a
// library would, instead of throwing.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "tests/support/stage_harness.h"

namespace framepipe::testing {
namespace {

// Under AddressSanitizer a SIGSEGV ends in ASan's report and exit code 1 instead of the signal:
// either way the process does not live past the frame.
bool died(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }

void run_frames(const std::string& yaml, int count) {
  StageHarness harness(yaml);
  for (int i = 0; i < count; ++i) harness.push(make_frame(cv::Mat(4, 4, CV_8UC3), i));
  std::exit(0);
}

TEST(FailStageDeathTest, CrashDiesAtItsFrameAndNotBefore) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_frames("{type: fail, params: {at_frame: 2, crash: segfault}}", 2),
              ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(run_frames("{type: fail, params: {at_frame: 2, crash: segfault}}", 3), died, "");
  EXPECT_EXIT(run_frames("{type: fail, params: {at_frame: 2, crash: abort}}", 3),
              ::testing::KilledBySignal(SIGABRT), "");
}

}  // namespace
}  // namespace framepipe::testing
