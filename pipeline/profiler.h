#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
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
};

struct PhaseTotals {
  std::string name;
  std::int64_t wall_ns = 0;
  std::int64_t cpu_ns = 0;
};

// Raw measurements of one stage over a run. Written from many threads at once; read after.
class StageMetrics {
 public:
  StageMetrics(std::int64_t run_start_ns, const std::vector<std::string>& phase_names);

  void record(std::int64_t start_ns, std::int64_t wall_ns, std::int64_t cpu_ns, std::int64_t frame);
  // Part of an invocation's time that a stage attributes to one of its declared phases
  // (decode: demux vs decode; encode: encode vs mux).
  void add_phase(std::size_t phase, std::int64_t wall_ns, std::int64_t cpu_ns);

  std::int64_t items() const { return items_.load(); }
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
