#pragma once

// A numbered image sequence given as one input by a printf pattern ("frames/%06d.png",
// "shot-%d.jpg"): libav's image2 demuxer reads it as a video, one frame per file, from the first
// number it finds (0 to 4) on.
#include <optional>
#include <string>

namespace framepipe {

// Whether the file name of `path` holds a %d or %0Nd field.
bool is_sequence_pattern(const std::string& path);

// What {stem} in an output name becomes for a sequence: the file name's stem without its
// number field and the separators around it ("shot" for "shot-%04d.jpg"), else the folder's name
// ("frames" for "frames/%06d.png"), else "sequence".
std::string sequence_stem(const std::string& pattern);

// When the sequence's numbering has a gap — a number missing after its first file while higher
// numbers exist — what is missing, for an error message: "'frames/000005.png' is missing
// between 000004 and 000006 (2 files after the gap)". libav would stop at the gap, or fail
// there, depending on where it falls. nullopt when the numbers run without a gap (or none
// exist: opening the input says so).
std::optional<std::string> sequence_gap(const std::string& pattern);

}  // namespace framepipe
