#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace framepipe {

std::int64_t steady_now_ns();
std::int64_t thread_cpu_now_ns();
// A small, stable number for the calling thread (1, 2, ...), for traces and tables.
int thread_number();

// One call into a stage, as the engine measured it around the call.
struct Invocation {
  std::int64_t start_ns = 0;  // steady clock, relative to the run's start
  std::int64_t wall_ns = 0;
  std::int64_t cpu_ns = 0;  // CPU time of the calling thread during the call
  std::int64_t frame = -1;  // frame index, -1 when the call produced no frame
  int thread = 0;
  bool prepare = false;  // a sink's prepare() on a oneTBB worker, not a call of the stage
};

struct PhaseTotals {
  std::string name;
  std::int64_t wall_ns = 0;
  std::int64_t cpu_ns = 0;
};

// The state of a run at one moment, taken by the engine's sampler several times a second.
struct Sample {
  std::int64_t t_ns = 0;            // since the run's start
  std::int64_t frames_done = 0;     // frames that have left the pipeline so far
  std::int64_t process_cpu_ns = 0;  // CPU the process has used since the run's start
  int in_flight = 0;                // frames alive (slots of the frames-in-flight budget taken)
  std::vector<int> queued;          // per stage: frames handed to it and not yet started
};

// Raw measurements of one stage over a run. Written from many threads at once; read after.
class StageMetrics {
 public:
  // With `keep_invocations` false only totals are kept (profiling off).
  StageMetrics(std::int64_t run_start_ns, const std::vector<std::string>& phase_names,
               bool keep_invocations = true);

  void record(std::int64_t start_ns, std::int64_t wall_ns, std::int64_t cpu_ns, std::int64_t frame);
  // A sink's parallel prepare() of one frame: its CPU is the stage's, but not its busy time,
  // since it did not hold up the stage's own calls; kept as an invocation for the trace.
  void record_prepare(std::int64_t start_ns, std::int64_t wall_ns, std::int64_t cpu_ns,
                      std::int64_t frame);
  // Part of an invocation's time that a stage attributes to one of its declared phases
  // (decode: demux vs decode; encode: encode vs mux).
  void add_phase(std::size_t phase, std::int64_t wall_ns, std::int64_t cpu_ns);

  // Queue bookkeeping, sampled for queue depth over time: a frame arrives when its producer
  // hands it on, starts when the stage's call begins, ends when the call returns.
  void arrive() { queued_.fetch_add(1, std::memory_order_relaxed); }
  void start() {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    active_.fetch_add(1, std::memory_order_relaxed);
  }
  void end() { active_.fetch_sub(1, std::memory_order_relaxed); }
  int queued() const { return queued_.load(std::memory_order_relaxed); }

  // Time spent waiting to hand output on (the source waiting for a frames-in-flight slot).
  void add_blocked(std::int64_t ns) { blocked_ns_.fetch_add(ns, std::memory_order_relaxed); }

  // Threads the stage started (libav's decoder threads, x264's): their CPU time is the stage's
  // work too, though no call of the stage runs on them.
  void adopt_threads(const std::set<int>& tids);
  // Threads that ran calls of some stage are engine threads, not this stage's helpers.
  void forget_threads(const std::set<int>& tids);
  // True for exactly one caller: the stage's first call, around which the engine looks for
  // threads the stage starts.
  bool claim_first_call() { return !first_call_claimed_.exchange(true); }
  // Reads the adopted threads' CPU clocks; a thread that has exited keeps its last reading.
  void sample_helper_threads();
  std::int64_t helper_cpu_ns() const;

  std::int64_t items() const { return items_.load(); }
  std::int64_t blocked_ns() const { return blocked_ns_.load(); }
  std::int64_t busy_ns() const { return busy_ns_.load(); }
  std::int64_t cpu_ns() const { return cpu_ns_.load(); }
  std::vector<PhaseTotals> phases() const;
  std::vector<Invocation> invocations() const;

 private:
  struct Phase {
    std::string name;
    std::atomic<std::int64_t> wall_ns{0};
    std::atomic<std::int64_t> cpu_ns{0};
  };
  std::int64_t run_start_ns_;
  bool keep_invocations_;
  std::atomic<int> queued_{0};
  std::atomic<int> active_{0};
  std::atomic<std::int64_t> blocked_ns_{0};
  std::atomic<bool> first_call_claimed_{false};
  mutable std::mutex helpers_mutex_;
  std::map<int, std::int64_t> helper_cpu_;  // tid -> CPU ns at its last reading
  std::atomic<std::int64_t> items_{0};
  std::atomic<std::int64_t> busy_ns_{0};
  std::atomic<std::int64_t> cpu_ns_{0};
  std::unique_ptr<Phase[]> phases_;
  std::size_t phase_count_;
  mutable std::mutex invocations_mutex_;
  std::vector<Invocation> invocations_;
};

// Measures the enclosing scope into one phase of a stage. A null metrics pointer measures
// nothing, so stages run the same outside the engine (in unit tests).
class ScopedPhase {
 public:
  ScopedPhase(StageMetrics* metrics, std::size_t phase);
  // A stage's own `Phase` enum (FRAMEPIPE_PHASES), whose values are its declared phases.
  template <typename Phase>
  requires std::is_enum_v<Phase> ScopedPhase(StageMetrics* metrics, Phase phase)
      : ScopedPhase(metrics, static_cast<std::size_t>(phase)) {}
  ~ScopedPhase();
  ScopedPhase(const ScopedPhase&) = delete;
  ScopedPhase& operator=(const ScopedPhase&) = delete;

 private:
  StageMetrics* metrics_;
  std::size_t phase_;
  std::int64_t wall_start_ = 0;
  std::int64_t cpu_start_ = 0;
};

// Names the threads that took part in a run ("source decode", "io video #0"); threads not
// named are oneTBB workers.
class ThreadNames {
 public:
  void name_current(std::string name);
  std::map<int, std::string> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<int, std::string> names_;
};

}  // namespace framepipe
