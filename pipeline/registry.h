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
  // The registered type closest to `type` by edit distance, for "did you mean" hints.
  std::string closest(const std::string& type) const;

 private:
  std::map<std::string, StageInfo> types_;
};

// Levenshtein distance, for suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace framepipe
