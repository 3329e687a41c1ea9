#pragma once

#include <cstdint>
#include <string>

namespace framepipe {

// Why a run stopped, in the user's terms: which file, which frame, which stage, what cause.
struct RunError {
  std::string file;
  std::string stage;
  std::string type;
  std::int64_t frame = -1;  // -1: not tied to a frame (opening, flushing)
  std::string message;

  // "in.mp4: frame 50: stage 'blur' (smooth): <message>"
  std::string to_string() const;
};

}  // namespace framepipe
