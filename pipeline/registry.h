#pragma once

#include <map>
#include <string>
#include <vector>

#include "pipeline/stage.h"

namespace framepipe {

// Stage type name -> description and factory. Filled explicitly by each stage family's
// register function, so nothing silently vanishes at link time.
class Registry {
 public:
  // Throws std::logic_error on a duplicate or incomplete registration: a programming error
  // that must fail at start-up.
  void add(StageInfo info);
  const StageInfo* find(const std::string& type) const;
  std::vector<const StageInfo*> all() const;
  // Every registered type name, for "did you mean" hints (pipeline/suggest.h).
  std::vector<std::string> types() const;

 private:
  std::map<std::string, StageInfo> types_;
};

}  // namespace framepipe
