#pragma once

#include "pipeline/registry.h"

namespace framepipe::stages {

// Adds every stage type of the catalogue (stages/catalogue.def) to the registry.
void register_all(Registry& registry);

}  // namespace framepipe::stages
