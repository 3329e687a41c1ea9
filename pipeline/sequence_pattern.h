#pragma once

// An image sequence given as one input, read by libav's image2 demuxer as a video, one frame per
// file: a printf pattern ("frames/%06d.png", "shot-%d.jpg"), numbered from the first number it
// finds (0 to 4) on, or a glob ("frames/*.png"), its files in name order.
#include <cstddef>
#include <optional>
#include <string>

namespace framepipe {

// Whether the file name of `path` holds a %d or %0Nd field, or is a glob (see below).
bool is_sequence_pattern(const std::string& path);

// Whether the file name of `path` holds a glob's *, ? or [ and no file of that exact name
// exists (a file may be named so).
bool is_sequence_glob(const std::string& path);

// How many files the glob `pattern` matches.
std::size_t glob_matches(const std::string& pattern);

// What {stem} in an output name becomes for a sequence: the file name's stem without its
// number field, or what comes before its first glob character, and the separators around it
// ("shot" for "shot-%04d.jpg" and "shot-*.jpg"), else the folder's name ("frames" for
// "frames/%06d.png" and "frames/*.png"), else "sequence".
std::string sequence_stem(const std::string& pattern);

// When the sequence's numbering has a gap — a number missing after its first file while higher
// numbers exist — what is missing, for an error message: "'frames/000005.png' is missing
// between 000004 and 000006 (2 files after the gap)". libav would stop at the gap, or fail
// there, depending on where it falls. nullopt when the numbers run without a gap (or none
// exist: opening the input says so).
std::optional<std::string> sequence_gap(const std::string& pattern);

}  // namespace framepipe
