// The profiler's memory stays bounded whatever the run's length: call times go to a fixed-size
// histogram whose percentiles are checked against exact ones computed here by sorting, and the
// invocation records (and the sampler's series) are thinned to an even sample once past a cap.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "pipeline/analysis.h"
#include "pipeline/duration_histogram.h"
#include "pipeline/evenly_thinned.h"
#include "pipeline/profiler.h"
#include "pipeline/report.h"

namespace framepipe::testing {
namespace {

// The nearest-rank quantile the histogram approximates: the value at rank round(q * (n - 1)).
std::int64_t exact_quantile_of(std::vector<std::int64_t> values, double q) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[rank];
}

// Call times spread over five decades, 100 ns to 10 ms, with a tail: a deterministic mix.
std::vector<std::int64_t> spread_call_times(std::size_t n) {
  std::vector<std::int64_t> values;
  values.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double decade = static_cast<double>((i * 7919) % 1000) / 1000.0 * 5.0;  // 0 .. 5
    values.push_back(static_cast<std::int64_t>(100.0 * std::pow(10.0, decade)) +
                     static_cast<std::int64_t>(i % 13));
  }
  return values;
}

TEST(DurationHistogram, SmallValuesAreExactAndLargerOnesReadAsTheirBucketsMidpoint) {
  DurationHistogram histogram;
  EXPECT_EQ(histogram.quantile(0.5), 0) << "empty";
  for (std::int64_t v : {10, 20, 30, 40}) histogram.add(v);
  // Below 128 ns every value has a bucket of its own.
  EXPECT_EQ(histogram.quantile(0.5), 30);   // rank round(0.5 * 3) = 2 of {10, 20, 30, 40}
  EXPECT_EQ(histogram.quantile(0.34), 20);  // rank round(1.02) = 1
  DurationHistogram larger;
  for (std::int64_t v : {1000, 1001, 1002, 5000}) larger.add(v);
  // 1000 = 125 << 3: its bucket is [1000, 1008), read as 1004; the extremes are kept exactly.
  EXPECT_EQ(larger.quantile(0.5), 1004);
  EXPECT_EQ(larger.quantile(0.0), 1000);
  EXPECT_EQ(larger.quantile(1.0), 5000);
  EXPECT_EQ(larger.max(), 5000);
  EXPECT_EQ(larger.count(), 4);
  DurationHistogram negative;
  negative.add(-5);
  EXPECT_EQ(negative.max(), 0) << "a clock read out of order counts as 0";
}

TEST(DurationHistogram, QuantilesOfAKnownSampleAreWithinTheStatedRelativeError) {
  const auto values = spread_call_times(200'000);
  DurationHistogram histogram;
  for (auto v : values) histogram.add(v);
  EXPECT_LE(DurationHistogram::kMaxRelativeError, 0.01);
  for (double q : {0.0, 0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const auto exact = exact_quantile_of(values, q);
    EXPECT_LE(std::abs(histogram.quantile(q) - exact),
              static_cast<std::int64_t>(
                  std::ceil(static_cast<double>(exact) * DurationHistogram::kMaxRelativeError)))
        << "q " << q << ": exact " << exact << ", histogram " << histogram.quantile(q);
  }
  EXPECT_EQ(histogram.max(), *std::max_element(values.begin(), values.end()));
  EXPECT_EQ(histogram.min(), *std::min_element(values.begin(), values.end()));
  // Hours-long calls still land in a bucket of their own size.
  DurationHistogram hours;
  hours.add(3'600'000'000'000);
  hours.add(3'700'000'000'000);
  hours.add(3'800'000'000'000);
  EXPECT_NEAR(static_cast<double>(hours.quantile(0.5)), 3.7e12,
              3.7e12 * DurationHistogram::kMaxRelativeError);
}

TEST(EvenlyThinned, KeepsEverythingUpToTheCap) {
  EvenlyThinned<int> thinned(100);
  for (int i = 0; i < 100; ++i) thinned.offer(i);
  ASSERT_EQ(thinned.kept().size(), 100u);
  EXPECT_EQ(thinned.stride(), 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(thinned.kept()[i], i);
}

TEST(EvenlyThinned, AMillionItemsLeaveAnEvenSampleWithinTheCap) {
  EvenlyThinned<std::int64_t> thinned(1000);
  for (std::int64_t i = 0; i < 1'000'000; ++i) thinned.offer(i);
  // By hand: the smallest power-of-two stride with ceil(1e6 / stride) <= 1000 is 1024
  // (512 would keep 1954), which keeps ceil(1e6 / 1024) = 977 items: 0, 1024, ..., 999424.
  EXPECT_EQ(thinned.offered(), 1'000'000);
  EXPECT_EQ(thinned.stride(), 1024);
  const auto& kept = thinned.kept();
  ASSERT_EQ(kept.size(), 977u);
  EXPECT_EQ(kept.front(), 0);
  EXPECT_EQ(kept.back(), 999'424);
  for (std::size_t i = 1; i < kept.size(); ++i) ASSERT_EQ(kept[i] - kept[i - 1], 1024) << i;
}

// A million calls of a stage, 1 µs apart, with known call times.
class MillionCalls : public ::testing::Test {
 protected:
  static constexpr std::int64_t kCalls = 1'000'000;
  static constexpr std::int64_t kRunStartNs = 5'000'000'000;
  static constexpr std::int64_t kCallSpacingNs = 1000;

  void SetUp() override {
    walls_ = spread_call_times(kCalls);
    for (std::int64_t i = 0; i < kCalls; ++i) {
      const auto wall = walls_[static_cast<std::size_t>(i)];
      metrics_.record({kRunStartNs + i * kCallSpacingNs, wall, wall, wall / 2, 0}, i,
                      CallKind::process);
    }
  }

  std::vector<std::int64_t> walls_;
  StageMetrics metrics_{kRunStartNs, {}};
};

TEST_F(MillionCalls, RecordsStayWithinTheCapAndSpanTheRunEvenly) {
  const auto kept = metrics_.invocations();
  EXPECT_EQ(metrics_.invocations_total(), kCalls);
  ASSERT_LE(kept.size(), kInvocationsKeptPerStage);
  ASSERT_GE(kept.size(), kInvocationsKeptPerStage / 2) << "halving leaves at least half the cap";
  const auto gap = kept[1].start_ns - kept[0].start_ns;
  EXPECT_EQ(kept.front().start_ns, 0);
  EXPECT_GE(kept.back().start_ns, (kCalls - 1) * kCallSpacingNs - gap) << "near the run's end";
  for (std::size_t i = 1; i < kept.size(); ++i) {
    ASSERT_EQ(kept[i].start_ns - kept[i - 1].start_ns, gap) << "even gaps, at " << i;
    ASSERT_EQ(kept[i].frame - kept[i - 1].frame, gap / kCallSpacingNs);
  }
}

TEST_F(MillionCalls, LatencyFiguresOfAllCallsAgreeWithTheExactOnesWithinTheError) {
  EXPECT_EQ(metrics_.frame_call_times().count(), kCalls);
  const auto figures = percentiles(metrics_.frame_call_times());
  const auto within = [](double figure_ms, std::int64_t exact_ns) {
    const double exact_ms = static_cast<double>(exact_ns) / 1e6;
    return std::abs(figure_ms - exact_ms) <= exact_ms * DurationHistogram::kMaxRelativeError + 1e-6;
  };
  EXPECT_TRUE(within(figures.p50_ms, exact_quantile_of(walls_, 0.5))) << figures.p50_ms;
  EXPECT_TRUE(within(figures.p95_ms, exact_quantile_of(walls_, 0.95))) << figures.p95_ms;
  EXPECT_DOUBLE_EQ(figures.max_ms,
                   static_cast<double>(*std::max_element(walls_.begin(), walls_.end())) / 1e6);
}

TEST_F(MillionCalls, TraceHasOneSlicePerKeptRecordAndSaysHowManyThereWere) {
  RunResult result;
  StageRunStats stage;
  stage.name = "spread";
  stage.type = "spread";
  stage.invocations = metrics_.invocations();
  stage.invocations_total = metrics_.invocations_total();
  result.stages.push_back(stage);
  const auto trace = build_trace(result);
  const auto slices = std::count_if(trace["traceEvents"].begin(), trace["traceEvents"].end(),
                                    [](const auto& event) { return event["ph"] == "X"; });
  EXPECT_EQ(static_cast<std::size_t>(slices), stage.invocations.size());
  EXPECT_EQ(trace["otherData"]["invocations_total"], kCalls);
  EXPECT_EQ(trace["otherData"]["invocations_kept"], stage.invocations.size());
}

TEST(ThinnedSeries, FpsOfSamplesFurtherApartThanTheWindowIsTakenSinceTheSampleBefore) {
  // A long run's series after thinning: samples 1 s apart, 50 frames out between each two.
  RunResult result;
  result.wall_s = 3;
  result.frames = 150;
  result.sample_interval_ns = 1'000'000'000;
  result.samples_taken = 4 * 64;
  for (std::int64_t i = 0; i < 4; ++i) {
    Sample sample;
    sample.t_ns = i * 1'000'000'000;
    sample.frames_done = 50 * i;
    sample.process_cpu_ns = 500'000'000 * i;
    result.samples.push_back(sample);
  }
  const Config config;
  const auto series = build_report(config, result, analyze(config, result))["series"];
  EXPECT_EQ(series["interval_s"], 1.0);
  EXPECT_EQ(series["samples_taken"], 256);
  EXPECT_EQ(series["fps"], nlohmann::json({0.0, 50.0, 50.0, 50.0}));
  EXPECT_EQ(series["cpu_cores"], nlohmann::json({0.0, 0.5, 0.5, 0.5}));
}

}  // namespace
}  // namespace framepipe::testing
