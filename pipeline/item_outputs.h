#pragma once

// The files a sink wrote for an item of a run over many (pipeline/item.h), held whole under
// their hidden names until the item is done: whoever takes the done item's outcome takes them
// too and puts them in place (a batch, in groups: pipeline/group_commit.h). A failed or
// cancelled item's files, and any that nobody took, are removed when the item ends, so none of
// them ever reaches a final path.
#include <memory>
#include <vector>

#include "pipeline/atomic_file.h"
#include "pipeline/item.h"

namespace framepipe {

// Called by a sink (from any thread): `written` is complete and closed under its hidden name
// (AtomicFile::close_unsynced); its final path becomes one of the item's outputs.
void add_written_output(Item& item, std::unique_ptr<AtomicFile> written);

// Called by the item's Done callback: the files to put in place; empty after the first call.
std::vector<std::unique_ptr<AtomicFile>> take_written_outputs(const Item& item);

}  // namespace framepipe
