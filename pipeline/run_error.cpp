#include "pipeline/run_error.h"

namespace framepipe {

std::string RunError::to_string() const {
  std::string text = file.empty() ? "" : file + ": ";
  if (frame >= 0) text += "frame " + std::to_string(frame) + ": ";
  return text + "stage '" + stage + "' (" + type + "): " + message;
}

}  // namespace framepipe
