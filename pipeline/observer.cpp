#include "pipeline/observer.h"

namespace framepipe {

const char* to_string(CallKind kind) {
  switch (kind) {
    case CallKind::open:
      return "open";
    case CallKind::next:
      return "next";
    case CallKind::process:
      return "process";
    case CallKind::consume:
      return "consume";
    case CallKind::prepare:
      return "prepare";
    case CallKind::finish:
      return "finish";
    case CallKind::abort:
      return "abort";
    case CallKind::convert:
      return "convert";
  }
  return "?";
}

void StageObservers::entry(const StageCall& call) const {
  for (auto* observer : list_) observer->on_entry(call);
}

void StageObservers::exit(const StageCall& call) const {
  for (auto it = list_.rbegin(); it != list_.rend(); ++it) (*it)->on_exit(call);
}

void StageObservers::tick() const {
  for (auto* observer : list_) observer->on_tick();
}

}  // namespace framepipe
