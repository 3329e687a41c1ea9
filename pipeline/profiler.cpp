#include "pipeline/profiler.h"

#include <algorithm>

#include "pipeline/sched_stats.h"

namespace framepipe {

namespace {

// The calls in progress on this thread, innermost last, shared by every Profiler: calls nest
// strictly on a thread, whichever run they belong to.
struct OpenCall {
  std::int64_t wall_start = 0;
  std::int64_t cpu_start = 0;
  std::int64_t runnable_start = 0;
  std::int64_t nested_wall_start = 0;
  std::int64_t nested_cpu_start = 0;
  std::int64_t nested_runnable_start = 0;
  bool watches_threads = false;
  std::set<int> threads_before;  // filled only when watches_threads
};
thread_local std::vector<OpenCall> open_calls;

// Time of the calls that have ended on this thread, undivided, summed: a call (or phase) takes
// the growth of these during it out of its own time, since that time ran nested in it.
thread_local std::int64_t nested_wall_ns = 0;
thread_local std::int64_t nested_cpu_ns = 0;
thread_local std::int64_t nested_runnable_ns = 0;

// The calling thread's entry in the profiler it last made a call for, by that profiler's id.
struct CallingThreadCache {
  std::uint64_t profiler_id = 0;
  void* entry = nullptr;
};
thread_local CallingThreadCache calling_thread_cache;
std::atomic<std::uint64_t> next_profiler_id{1};

// The calling thread's run delay at a moment whose wall and CPU clocks are given; zero where
// the kernel keeps no run delay (the call's time off-CPU then all reads as sleeping). Run delay
// grows only while the thread is off a core, so as long as the thread's wall time since the
// last reading exceeds its CPU time by less than kRunDelayResolutionNs, that reading is within
// this of the truth and is reused: a thread that keeps its core is spared a system call (a
// pread of its schedstat) at every call's start and end, and one that loses it is read anew.
constexpr std::int64_t kRunDelayResolutionNs = 20'000;
struct RunDelayReading {
  std::int64_t run_delay_ns = 0;
  std::int64_t wall_ns = 0;
  std::int64_t cpu_ns = 0;
  bool taken = false;
};
thread_local RunDelayReading last_run_delay;

std::int64_t run_delay_at(std::int64_t wall_ns, std::int64_t cpu_ns) {
  auto& last = last_run_delay;
  const auto off_cpu_since = (wall_ns - last.wall_ns) - (cpu_ns - last.cpu_ns);
  if (last.taken && off_cpu_since < kRunDelayResolutionNs) return last.run_delay_ns;
  last = {thread_run_delay_now_ns().value_or(0), wall_ns, cpu_ns, true};
  return last.run_delay_ns;
}

bool handles_frames(CallKind kind) {
  return kind == CallKind::next || kind == CallKind::process || kind == CallKind::consume;
}

}  // namespace

StageMetrics::StageMetrics(std::int64_t run_start_ns, const std::vector<std::string>& phase_names,
                           std::size_t invocations_cap)
    : run_start_ns_(run_start_ns),
      phases_(std::make_unique<Phase[]>(phase_names.size())),
      phase_count_(phase_names.size()),
      invocations_(invocations_cap) {
  for (std::size_t i = 0; i < phase_count_; ++i) phases_[i].name = phase_names[i];
}

void StageMetrics::keep(const CallTimes& times, std::int64_t frame, CallKind kind) {
  const Invocation invocation{times.start_ns - run_start_ns_,
                              times.wall_ns,
                              times.cpu_ns,
                              frame,
                              thread_number(),
                              times.span_ns,
                              kind};
  std::lock_guard lock(invocations_mutex_);
  // A frame's own call: prepare and convert run beside the stage's calls.
  if (frame >= 0 && handles_frames(kind)) {
    frame_call_times_.add(times.wall_ns);
  }
  invocations_.offer(invocation);
}

void StageMetrics::record(const CallTimes& times, std::int64_t frame, CallKind kind) {
  busy_ns_.fetch_add(times.wall_ns, std::memory_order_relaxed);
  cpu_ns_.fetch_add(times.cpu_ns, std::memory_order_relaxed);
  runnable_ns_.fetch_add(times.runnable_ns, std::memory_order_relaxed);
  keep(times, frame, kind);
}

void StageMetrics::record_beside(const CallTimes& times, std::int64_t frame, CallKind kind) {
  cpu_ns_.fetch_add(times.cpu_ns, std::memory_order_relaxed);
  keep(times, frame, kind);
}

void StageMetrics::add_phase(std::size_t phase, std::int64_t wall_ns, std::int64_t cpu_ns,
                             std::int64_t runnable_ns) {
  if (phase >= phase_count_) return;
  phases_[phase].wall_ns.fetch_add(wall_ns, std::memory_order_relaxed);
  phases_[phase].cpu_ns.fetch_add(cpu_ns, std::memory_order_relaxed);
  phases_[phase].runnable_ns.fetch_add(runnable_ns, std::memory_order_relaxed);
  phases_[phase].items.fetch_add(1, std::memory_order_relaxed);
}

void StageMetrics::adopt_threads(const std::set<int>& tids) {
  std::lock_guard lock(helpers_mutex_);
  for (int tid : tids) {
    helpers_.emplace(
        tid, HelperReading{thread_cpu_ns(tid).value_or(0), thread_run_delay_ns(tid).value_or(0)});
  }
}

void StageMetrics::forget_threads(const std::set<int>& tids) {
  std::lock_guard lock(helpers_mutex_);
  for (int tid : tids) helpers_.erase(tid);
}

void StageMetrics::sample_helper_threads() {
  std::lock_guard lock(helpers_mutex_);
  for (auto& [tid, reading] : helpers_) {
    const auto cpu = thread_cpu_ns(tid);
    const auto runnable = thread_run_delay_ns(tid);
    // Both or neither: a thread that exits between the two readings keeps its last pair.
    if (cpu && runnable) reading = {*cpu, *runnable};
  }
}

std::int64_t StageMetrics::helper_cpu_ns() const {
  std::lock_guard lock(helpers_mutex_);
  std::int64_t total = 0;
  for (const auto& [tid, reading] : helpers_) total += reading.cpu_ns;
  return total;
}

std::int64_t StageMetrics::helper_runnable_ns() const {
  std::lock_guard lock(helpers_mutex_);
  std::int64_t total = 0;
  for (const auto& [tid, reading] : helpers_) total += reading.runnable_ns;
  return total;
}

std::vector<PhaseTotals> StageMetrics::phases() const {
  std::vector<PhaseTotals> totals;
  for (std::size_t i = 0; i < phase_count_; ++i) {
    totals.push_back({phases_[i].name, phases_[i].wall_ns.load(), phases_[i].cpu_ns.load(),
                      phases_[i].runnable_ns.load(), phases_[i].items.load()});
  }
  return totals;
}

std::vector<Invocation> StageMetrics::invocations() const {
  std::lock_guard lock(invocations_mutex_);
  return invocations_.kept();
}

std::int64_t StageMetrics::invocations_total() const {
  std::lock_guard lock(invocations_mutex_);
  return invocations_.offered();
}

DurationHistogram StageMetrics::frame_call_times() const {
  std::lock_guard lock(invocations_mutex_);
  return frame_call_times_;
}

Profiler::Profiler(std::int64_t run_start_ns, const std::vector<ProfiledStage>& stages)
    : id_(next_profiler_id.fetch_add(1)) {
  for (const auto& stage : stages) {
    auto phases = stage.phases;
    if (stage.source) phases.push_back(kConversionPhase);
    stages_.push_back({std::make_unique<StageMetrics>(run_start_ns, phases),
                       stage.source ? phases.size() - 1 : 0, stage.source, stage.in_arena});
  }
}

Profiler::CallingThread& Profiler::calling_thread() {
  auto& cache = calling_thread_cache;
  if (cache.profiler_id != id_) {
    std::lock_guard lock(calling_threads_mutex_);
    auto& entry = calling_threads_.emplace_back();
    entry.tid = current_tid();
    entry.cpu_at_first_call_ns = thread_cpu_now_ns();
    cache = {id_, &entry};
  }
  return *static_cast<CallingThread*>(cache.entry);
}

std::int64_t Profiler::threads_cpu_outside_calls_ns() const {
  std::lock_guard lock(calling_threads_mutex_);
  std::int64_t outside = 0;
  for (const auto& thread : calling_threads_) {
    const auto now = thread_cpu_ns(thread.tid);
    if (!now) continue;
    outside +=
        std::max<std::int64_t>(0, *now - thread.cpu_at_first_call_ns - thread.calls_cpu_ns.load());
  }
  return outside;
}

void Profiler::on_entry(const StageCall& call) {
  EngineThreads::note_current();
  if (open_calls.empty()) calling_thread();
  if (open_calls.capacity() == 0) open_calls.reserve(8);
  auto& open = open_calls.emplace_back();
  // Threads a stage starts while opening or in its first call (libav's decoder threads) are
  // its helpers.
  open.watches_threads = call.kind == CallKind::open ||
                         (handles_frames(call.kind) && metrics(call.stage).claim_first_call());
  if (open.watches_threads) open.threads_before = process_thread_ids();
  open.nested_wall_start = nested_wall_ns;
  open.nested_cpu_start = nested_cpu_ns;
  open.nested_runnable_start = nested_runnable_ns;
  open.wall_start = steady_now_ns();
  open.cpu_start = thread_cpu_now_ns();
  open.runnable_start = run_delay_at(open.wall_start, open.cpu_start);
}

void Profiler::on_exit(const StageCall& call) {
  const auto wall_end = steady_now_ns();
  const auto cpu_end = thread_cpu_now_ns();
  const auto runnable_end = run_delay_at(wall_end, cpu_end);
  OpenCall open = std::move(open_calls.back());
  open_calls.pop_back();
  const auto wall_ns = wall_end - open.wall_start;
  const auto cpu_ns = cpu_end - open.cpu_start;
  const auto runnable_ns = runnable_end - open.runnable_start;
  const StageMetrics::CallTimes own{
      open.wall_start, wall_ns, wall_ns - (nested_wall_ns - open.nested_wall_start),
      cpu_ns - (nested_cpu_ns - open.nested_cpu_start),
      runnable_ns - (nested_runnable_ns - open.nested_runnable_start)};
  nested_wall_ns = open.nested_wall_start + wall_ns;
  nested_cpu_ns = open.nested_cpu_start + cpu_ns;
  nested_runnable_ns = open.nested_runnable_start + runnable_ns;

  auto& stage = stages_[call.stage];
  auto& metrics = *stage.metrics;
  switch (call.kind) {
    case CallKind::prepare:
      metrics.record_beside(own, call.frame, call.kind);
      break;
    case CallKind::convert:
      metrics.record_beside(own, call.frame, call.kind);
      metrics.add_phase(stage.conversion_phase, own.wall_ns, own.cpu_ns, own.runnable_ns);
      break;
    default:
      metrics.record(own, call.frame, call.kind);
  }
  // An outermost call on an arena thread kept that thread busy for all of its time.
  const bool arena_work =
      call.kind == CallKind::prepare || call.kind == CallKind::convert ||
      (stage.in_arena && (call.kind == CallKind::process || call.kind == CallKind::consume));
  if (arena_work && open_calls.empty()) {
    arena_busy_ns_.fetch_add(wall_ns, std::memory_order_relaxed);
  }
  if (open_calls.empty()) {
    calling_thread().calls_cpu_ns.fetch_add(cpu_ns, std::memory_order_relaxed);
  }
  if (open.watches_threads) {
    std::set<int> started;
    for (int tid : process_thread_ids()) {
      if (!open.threads_before.contains(tid)) started.insert(tid);
    }
    metrics.adopt_threads(started);
  }
}

void Profiler::on_tick() {
  for (auto& stage : stages_) stage.metrics->sample_helper_threads();
}

void Profiler::finish_run() {
  const auto engine_threads = EngineThreads::all();
  for (auto& stage : stages_) {
    stage.metrics->forget_threads(engine_threads);
    stage.metrics->sample_helper_threads();
  }
}

std::vector<PhaseTotals> Profiler::phases(std::size_t index) const {
  const auto& stage = stages_[index];
  auto phases = stage.metrics->phases();
  if (stage.source && phases[stage.conversion_phase].items == 0) {
    phases.erase(phases.begin() + static_cast<std::ptrdiff_t>(stage.conversion_phase));
  }
  return phases;
}

ScopedPhase::ScopedPhase(StageMetrics* metrics, std::size_t phase)
    : metrics_(metrics), phase_(phase) {
  if (metrics_) {
    nested_wall_start_ = nested_wall_ns;
    nested_cpu_start_ = nested_cpu_ns;
    nested_runnable_start_ = nested_runnable_ns;
    wall_start_ = steady_now_ns();
    cpu_start_ = thread_cpu_now_ns();
    runnable_start_ = run_delay_at(wall_start_, cpu_start_);
  }
}

ScopedPhase::~ScopedPhase() {
  if (metrics_) {
    const auto wall_end = steady_now_ns();
    const auto cpu_end = thread_cpu_now_ns();
    const auto wall_ns = wall_end - wall_start_ - (nested_wall_ns - nested_wall_start_);
    const auto cpu_ns = cpu_end - cpu_start_ - (nested_cpu_ns - nested_cpu_start_);
    const auto runnable_ns = run_delay_at(wall_end, cpu_end) - runnable_start_ -
                             (nested_runnable_ns - nested_runnable_start_);
    metrics_->add_phase(phase_, wall_ns, cpu_ns, runnable_ns);
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
