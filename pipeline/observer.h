#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pipeline/threads.h"

namespace framepipe {

// Which call of a stage the engine is making. `convert` is no method of the stage: it is the
// conversion of a source's deferred pixels (Frame's DeferredImage), which runs inside whichever
// call first reads them and belongs to the source that deferred it.
enum class CallKind { open, next, process, consume, prepare, finish, abort, convert };
const char* to_string(CallKind kind);

// One call, as observers see it on entry and on exit.
struct StageCall {
  std::size_t stage = 0;  // the stage's index in the config's stage list
  CallKind kind = CallKind::open;
  // The frame's index; -1 for open, finish and abort, and on exit from a next() that produced
  // no frame (end of stream).
  std::int64_t frame = -1;
  int thread = 0;       // thread_number() of the thread making the call
  bool failed = false;  // on exit: the call threw
};

// Instrumentation, in the spirit of Taskflow's ObserverInterface. on_entry and on_exit come in
// pairs, on the thread that makes the call, immediately around it. Pairs nest as calls do: a
// call that first reads deferred pixels contains their conversion, and a oneTBB worker waiting
// inside a stage's parallel loop may run another stage's call. Called from many threads at once.
class StageObserver {
 public:
  virtual ~StageObserver() = default;
  virtual void on_entry(const StageCall& call) = 0;
  virtual void on_exit(const StageCall& call) = 0;
  // Called by the engine's sampler thread every sample interval while the graph runs.
  virtual void on_tick() {}
};

// The observers attached to one run, and the one function through which the engine makes every
// stage call. With none attached a call costs nothing more than the call.
class StageObservers {
 public:
  void attach(StageObserver& observer) { list_.push_back(&observer); }
  bool empty() const { return list_.empty(); }

  // Runs body(call), notifying every observer on entry (in attach order) and on exit (in
  // reverse order), also when body throws. body may change call.frame: next() learns only on
  // return whether it produced a frame.
  template <typename Body>
  void observe(StageCall call, Body&& body) const {
    if (list_.empty()) {
      body(call);
      return;
    }
    call.thread = thread_number();
    entry(call);
    try {
      body(call);
    } catch (...) {
      call.failed = true;
      exit(call);
      throw;
    }
    exit(call);
  }

  void entry(const StageCall& call) const;
  void exit(const StageCall& call) const;
  void tick() const;

 private:
  std::vector<StageObserver*> list_;
};

}  // namespace framepipe
