#pragma once

#include <algorithm>
#include <tuple>
#include <vector>

#include "pipeline/frame.h"

namespace framepipe::stages {

// Appends a detector's findings to the frame highest score first, then top to bottom and left to
// right: the same frame gives the same list whatever order OpenCV's parallel loops found them in.
inline void add_best_first(std::vector<Detection> found, Frame& frame) {
  std::stable_sort(found.begin(), found.end(), [](const Detection& a, const Detection& b) {
    return std::tuple(-a.score, a.box.y, a.box.x) < std::tuple(-b.score, b.box.y, b.box.x);
  });
  frame.detections.insert(frame.detections.end(), std::make_move_iterator(found.begin()),
                          std::make_move_iterator(found.end()));
}

}  // namespace framepipe::stages
