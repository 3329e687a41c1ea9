#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "pipeline/duration_histogram.h"
#include "pipeline/evenly_thinned.h"
#include "pipeline/observer.h"
#include "pipeline/threads.h"

namespace framepipe {

// One call into a stage, as the profiler measured it around the call. Its wall and CPU time
// leave out what ran nested in it on the same thread (another stage's call, a conversion of
// deferred pixels), which is billed where it belongs.
struct Invocation {
  std::int64_t start_ns = 0;  // steady clock, relative to the run's start
  std::int64_t wall_ns = 0;
  std::int64_t cpu_ns = 0;  // CPU time of the calling thread during the call
  std::int64_t frame = -1;  // frame index, -1 when the call produced no frame
  int thread = 0;
  // The call's whole interval on its thread, nested work included: where the trace draws it,
  // with what ran nested drawn inside.
  std::int64_t span_ns = 0;
  // process/consume/next/open/finish/abort are the stage's own calls; a sink's `prepare` on a
  // oneTBB worker and a source's deferred `convert` run beside them, off the stage's busy time.
  CallKind kind = CallKind::process;
};

struct PhaseTotals {
  std::string name;
  std::int64_t wall_ns = 0;
  std::int64_t cpu_ns = 0;
  std::int64_t runnable_ns = 0;  // waiting for a core
  std::int64_t items = 0;        // how many times the phase was entered
};

// The phase the profiler adds to every source: the conversion of the pixels it deferred
// (decode's YUV to BGR), wherever it ran.
inline constexpr const char* kConversionPhase = "convert";

// The state of a run at one moment, taken by the engine's sampler several times a second.
struct Sample {
  std::int64_t t_ns = 0;            // since the run's start
  std::int64_t frames_done = 0;     // frames that have left the pipeline so far
  std::int64_t process_cpu_ns = 0;  // CPU the process has used since the run's start
  int in_flight = 0;                // frames alive (slots of the frames-in-flight budget taken)
  std::vector<int> queued;          // per stage: frames handed to it and not yet started
};

// Samples a run keeps at most (at 40 a second, 100 s of them); a longer run keeps an even
// sample of them (EvenlyThinned), plus the last.
inline constexpr std::size_t kSamplesKept = 4096;

// Invocation records a stage keeps at most: every call of a test clip or of a couple of minutes
// of 30 fps video (under 0.5 MiB per stage, and a trace.json event each); beyond, an even sample
// of the run's calls (EvenlyThinned).
inline constexpr std::size_t kInvocationsKeptPerStage = 8192;

// The profiler's measurements of one stage over a run. Written from many threads at once; read
// after. Its memory is bounded whatever the run's length: totals, a histogram of call times,
// and at most `invocations_cap` invocation records.
class StageMetrics {
 public:
  StageMetrics(std::int64_t run_start_ns, const std::vector<std::string>& phase_names,
               std::size_t invocations_cap = kInvocationsKeptPerStage);

  // One call's own time: its wall, its CPU, and its time waiting for a core.
  struct CallTimes {
    std::int64_t start_ns = 0;
    std::int64_t span_ns = 0;  // the call's whole interval (Invocation::span_ns)
    std::int64_t wall_ns = 0;
    std::int64_t cpu_ns = 0;
    std::int64_t runnable_ns = 0;
  };

  // A call of the stage: its wall time is the stage's busy time, its CPU the stage's CPU.
  void record(const CallTimes& times, std::int64_t frame, CallKind kind);
  // Work of the stage beside its calls (a sink's parallel prepare(), a source's deferred
  // conversion): its CPU is the stage's, but not its busy time, since it did not hold up the
  // stage's own calls; kept as an invocation for the trace.
  void record_beside(const CallTimes& times, std::int64_t frame, CallKind kind);
  // Part of an invocation's time that a stage attributes to one of its declared phases
  // (decode: demux vs decode; encode: encode vs mux).
  void add_phase(std::size_t phase, std::int64_t wall_ns, std::int64_t cpu_ns,
                 std::int64_t runnable_ns);

  // Threads the stage started (libav's decoder threads, x264's): their CPU time is the stage's
  // work too, though no call of the stage runs on them.
  void adopt_threads(const std::set<int>& tids);
  // Threads that ran calls of some stage are engine threads, not this stage's helpers.
  void forget_threads(const std::set<int>& tids);
  // True for exactly one caller: the stage's first call, around which the profiler looks for
  // threads the stage starts.
  bool claim_first_call() {
    // Read first: after the first call this costs no write to a line all workers share.
    return !first_call_claimed_.load(std::memory_order_relaxed) &&
           !first_call_claimed_.exchange(true);
  }
  // Reads the adopted threads' CPU clocks and run delays; a thread that has exited keeps its
  // last reading.
  void sample_helper_threads();
  std::int64_t helper_cpu_ns() const;
  // Time the adopted threads spent ready to run but waiting for a core.
  std::int64_t helper_runnable_ns() const;

  std::int64_t busy_ns() const { return busy_ns_.load(); }
  std::int64_t cpu_ns() const { return cpu_ns_.load(); }
  // Of the busy time, what the calling threads spent waiting for a core.
  std::int64_t runnable_ns() const { return runnable_ns_.load(); }
  std::vector<PhaseTotals> phases() const;
  // The invocation records kept: all of them up to the cap, then an even sample in call order.
  std::vector<Invocation> invocations() const;
  // Every invocation recorded, kept or not.
  std::int64_t invocations_total() const;
  // Wall times of the stage's own calls that handled a frame (not prepare or convert), each
  // counted however many records are kept.
  DurationHistogram frame_call_times() const;

 private:
  struct Phase {
    std::string name;
    std::atomic<std::int64_t> wall_ns{0};
    std::atomic<std::int64_t> cpu_ns{0};
    std::atomic<std::int64_t> runnable_ns{0};
    std::atomic<std::int64_t> items{0};
  };
  struct HelperReading {
    std::int64_t cpu_ns = 0;
    std::int64_t runnable_ns = 0;
  };
  void keep(const CallTimes& times, std::int64_t frame, CallKind kind);

  std::int64_t run_start_ns_;
  std::atomic<bool> first_call_claimed_{false};
  mutable std::mutex helpers_mutex_;
  std::map<int, HelperReading> helpers_;  // tid -> its last reading
  std::atomic<std::int64_t> busy_ns_{0};
  std::atomic<std::int64_t> cpu_ns_{0};
  std::atomic<std::int64_t> runnable_ns_{0};
  std::unique_ptr<Phase[]> phases_;
  std::size_t phase_count_;
  mutable std::mutex invocations_mutex_;
  EvenlyThinned<Invocation> invocations_;
  DurationHistogram frame_call_times_;
};

// What the profiler needs to know of each stage.
struct ProfiledStage {
  std::vector<std::string> phases;  // the stage's declared phases
  bool source = false;              // gets kConversionPhase after its own phases
  bool in_arena = false;            // its process()/consume() run on the oneTBB arena's threads
};

// The profiler is one observer of the engine's calls. Around each call it reads the steady
// clock, the calling thread's CPU clock and its run delay (time ready but without a core); what ran
// nested in the call on the same thread (a conversion of deferred pixels, another stage's call
// taken by a waiting oneTBB worker) is taken out of the call's time and billed to its own stage. It
// finds the threads a stage starts during its open() and first call, and sums the arena threads'
// busy time.
class Profiler : public StageObserver {
 public:
  Profiler(std::int64_t run_start_ns, const std::vector<ProfiledStage>& stages);

  void on_entry(const StageCall& call) override;
  void on_exit(const StageCall& call) override;
  // Reads the helper threads' CPU clocks, so a thread that exits keeps its last reading.
  void on_tick() override;

  // For ScopedPhase in the stage's calls.
  StageMetrics& metrics(std::size_t stage) { return *stages_[stage].metrics; }
  // After the run: forgets helpers that turned out to be engine threads and reads the helpers'
  // clocks one last time.
  void finish_run();
  // The stage's phases; a source's conversion phase only when it converted anything.
  std::vector<PhaseTotals> phases(std::size_t stage) const;
  // Wall time the arena's threads spent in cpu stages' calls, prepare() and conversions.
  std::int64_t arena_busy_ns() const { return arena_busy_ns_.load(); }
  // CPU the threads that made this run's calls used outside them, from each one's first call
  // to now: oneTBB workers spinning while idle, the engine's own work. Threads that have
  // exited are left out. Read it while the threads live (before the arena goes).
  std::int64_t threads_cpu_outside_calls_ns() const;

 private:
  // A thread that made calls in this run: its CPU clock at its first call, and the CPU of its
  // outermost calls since.
  struct CallingThread {
    int tid = 0;
    std::int64_t cpu_at_first_call_ns = 0;
    std::atomic<std::int64_t> calls_cpu_ns{0};
  };
  CallingThread& calling_thread();

  struct Stage {
    std::unique_ptr<StageMetrics> metrics;
    std::size_t conversion_phase = 0;  // index of kConversionPhase; sources only
    bool source = false;
    bool in_arena = false;
  };
  std::vector<Stage> stages_;
  std::atomic<std::int64_t> arena_busy_ns_{0};
  const std::uint64_t id_;  // tells this profiler from an earlier one at the same address
  mutable std::mutex calling_threads_mutex_;
  std::deque<CallingThread> calling_threads_;  // a deque: entries stay where they are
};

// Measures the enclosing scope into one phase of a stage, less what ran nested in it (as the
// profiler does for calls: a conversion of deferred pixels it triggered is not its time). A
// null metrics pointer measures nothing, so stages run the same outside the engine (in unit
// tests) and with profiling off.
class ScopedPhase {
 public:
  // A stage's own `Phase` enum (FRAMEPIPE_PHASES), whose values are its declared phases; no
  // other index can be named.
  template <typename Phase>
  requires std::is_enum_v<Phase> ScopedPhase(StageMetrics* metrics, Phase phase)
      : ScopedPhase(metrics, static_cast<std::size_t>(phase)) {}
  ~ScopedPhase();
  ScopedPhase(const ScopedPhase&) = delete;
  ScopedPhase& operator=(const ScopedPhase&) = delete;

 private:
  ScopedPhase(StageMetrics* metrics, std::size_t phase);

  StageMetrics* metrics_;
  std::size_t phase_;
  std::int64_t wall_start_ = 0;
  std::int64_t cpu_start_ = 0;
  std::int64_t runnable_start_ = 0;
  std::int64_t nested_wall_start_ = 0;
  std::int64_t nested_cpu_start_ = 0;
  std::int64_t nested_runnable_start_ = 0;
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
