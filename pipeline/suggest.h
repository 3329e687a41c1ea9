#pragma once

// "Did you mean" hints, with one rule for every name a user types: config keys, stage types,
// stage parameters.
#include <cstddef>
#include <string>
#include <vector>

namespace framepipe {

// Levenshtein distance.
std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word` when it is near enough to be a typo of it (at most
// max(2, length / 3) edits); empty when none is.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// " (did you mean 'width'?)" for the closest_match, or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace framepipe
