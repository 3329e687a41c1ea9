#include "stages/register_all.h"

namespace framepipe::stages {

#define FRAMEPIPE_STAGE(function) StageInfo function();
#include "stages/catalogue.def"
#undef FRAMEPIPE_STAGE

void register_all(Registry& registry) {
#define FRAMEPIPE_STAGE(function) registry.add(function());
#include "stages/catalogue.def"
#undef FRAMEPIPE_STAGE
}

}  // namespace framepipe::stages
