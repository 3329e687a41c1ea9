// The engine's typed side data (pipeline/side_data.h): what one stage publishes for the others
// of a run, found by a key that names its type.
#include "pipeline/side_data.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace framepipe {
namespace {

struct Published {
  int streams = 0;
};
inline constexpr SideKey<Published> kPublished{"test.published"};
inline constexpr SideKey<std::string> kSameNameOtherType{"test.published"};
inline constexpr SideKey<Published> kNeverPut{"test.never_put"};

TEST(SideDataTest, ReaderGetsWhatTheWriterPutUnderTheKey) {
  SideData side_data;
  auto value = std::make_shared<Published>();
  value->streams = 3;
  side_data.put(kPublished, value);
  const auto read = side_data.get(kPublished);
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read.get(), value.get()) << "the same object, not a copy";
  EXPECT_EQ(read->streams, 3);
  EXPECT_EQ(side_data.get(kNeverPut), nullptr);
}

TEST(SideDataTest, AKeyOfTheSameNameButAnotherTypeIsRefused) {
  SideData side_data;
  side_data.put(kPublished, std::make_shared<Published>());
  EXPECT_THROW(side_data.get(kSameNameOtherType), std::logic_error);
}

TEST(SideDataTest, PutAndGetFromManyThreadsAtOnce) {
  SideData side_data;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&side_data, t] {
      for (int i = 0; i < 1000; ++i) {
        auto value = std::make_shared<Published>();
        value->streams = t;
        side_data.put(kPublished, value);
        const auto read = side_data.get(kPublished);
        ASSERT_NE(read, nullptr);
        ASSERT_GE(read->streams, 0);
        ASSERT_LT(read->streams, 4);
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace
}  // namespace framepipe
