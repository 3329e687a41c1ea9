#!/usr/bin/env bash
# Builds framepipe with ThreadSanitizer in build-tsan/ and runs the tests of the engine's
# concurrency under it: the flow graph, the frames-in-flight budget, io threads, failure and
# drain, at 1, 2 and 8 threads (Threads/EngineTest.*), plus single-file runs of the TSan-built
# binary (a report makes it exit 66, failing the test). Any report fails the run.
# tests/tsan.supp lists what TSan cannot see through in Debian's uninstrumented libraries, each
# with why. Batches are left out: their worker threads hand each run to the shared oneTBB arena
# (task_arena::execute may run it on a oneTBB worker), a handoff inside libtbb, so every object a
# run shares with its batch thread is reported as a race.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
build="$root/build-tsan"
cmake -S "$root" -B "$build" -DFRAMEPIPE_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target framepipe framepipe_tests
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:exitcode=66:suppressions=$root/tests/tsan.supp"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 600 \
  -R '^(Threads/EngineTest\.|FailStage\.|StressTest\.ThreadsFollowTheConfigNotTheInputLength)'
