#include "pipeline/profiler.h"

#include <time.h>

#include <chrono>

#include "pipeline/threads.h"

namespace framepipe {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t thread_cpu_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int thread_number() {
  static std::atomic<int> next{1};
  thread_local const int number = next.fetch_add(1);
  return number;
}

StageMetrics::StageMetrics(std::int64_t run_start_ns, const std::vector<std::string>& phase_names,
                           bool keep_invocations)
    : run_start_ns_(run_start_ns),
      keep_invocations_(keep_invocations),
      phases_(std::make_unique<Phase[]>(phase_names.size())),
      phase_count_(phase_names.size()) {
  for (std::size_t i = 0; i < phase_count_; ++i) phases_[i].name = phase_names[i];
}

void StageMetrics::record(std::int64_t start_ns, std::int64_t wall_ns, std::int64_t cpu_ns,
                          std::int64_t frame) {
  if (frame >= 0) items_.fetch_add(1, std::memory_order_relaxed);
  busy_ns_.fetch_add(wall_ns, std::memory_order_relaxed);
  cpu_ns_.fetch_add(cpu_ns, std::memory_order_relaxed);
  if (!keep_invocations_) return;
  std::lock_guard lock(invocations_mutex_);
  invocations_.push_back({start_ns - run_start_ns_, wall_ns, cpu_ns, frame, thread_number()});
}

void StageMetrics::record_prepare(std::int64_t start_ns, std::int64_t wall_ns, std::int64_t cpu_ns,
                                  std::int64_t frame) {
  cpu_ns_.fetch_add(cpu_ns, std::memory_order_relaxed);
  if (!keep_invocations_) return;
  std::lock_guard lock(invocations_mutex_);
  invocations_.push_back(
      {start_ns - run_start_ns_, wall_ns, cpu_ns, frame, thread_number(), /*prepare=*/true});
}

void StageMetrics::add_phase(std::size_t phase, std::int64_t wall_ns, std::int64_t cpu_ns) {
  if (phase >= phase_count_) return;
  phases_[phase].wall_ns.fetch_add(wall_ns, std::memory_order_relaxed);
  phases_[phase].cpu_ns.fetch_add(cpu_ns, std::memory_order_relaxed);
}

void StageMetrics::adopt_threads(const std::set<int>& tids) {
  std::lock_guard lock(helpers_mutex_);
  for (int tid : tids) helper_cpu_.emplace(tid, thread_cpu_ns(tid).value_or(0));
}

void StageMetrics::forget_threads(const std::set<int>& tids) {
  std::lock_guard lock(helpers_mutex_);
  for (int tid : tids) helper_cpu_.erase(tid);
}

void StageMetrics::sample_helper_threads() {
  std::lock_guard lock(helpers_mutex_);
  for (auto& [tid, cpu] : helper_cpu_) {
    if (auto now = thread_cpu_ns(tid)) cpu = *now;
  }
}

std::int64_t StageMetrics::helper_cpu_ns() const {
  std::lock_guard lock(helpers_mutex_);
  std::int64_t total = 0;
  for (const auto& [tid, cpu] : helper_cpu_) total += cpu;
  return total;
}

std::vector<PhaseTotals> StageMetrics::phases() const {
  std::vector<PhaseTotals> totals;
  for (std::size_t i = 0; i < phase_count_; ++i) {
    totals.push_back({phases_[i].name, phases_[i].wall_ns.load(), phases_[i].cpu_ns.load()});
  }
  return totals;
}

std::vector<Invocation> StageMetrics::invocations() const {
  std::lock_guard lock(invocations_mutex_);
  return invocations_;
}

ScopedPhase::ScopedPhase(StageMetrics* metrics, std::size_t phase)
    : metrics_(metrics), phase_(phase) {
  if (metrics_) {
    wall_start_ = steady_now_ns();
    cpu_start_ = thread_cpu_now_ns();
  }
}

ScopedPhase::~ScopedPhase() {
  if (metrics_) {
    metrics_->add_phase(phase_, steady_now_ns() - wall_start_, thread_cpu_now_ns() - cpu_start_);
  }
}

void ThreadNames::name_current(std::string name) {
  std::lock_guard lock(mutex_);
  names_[thread_number()] = std::move(name);
}

std::map<int, std::string> ThreadNames::snapshot() const {
  std::lock_guard lock(mutex_);
  return names_;
}

}  // namespace framepipe
