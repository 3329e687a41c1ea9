#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang, ASan and UBSan in build-fuzz/, then fuzzes
# each for SECONDS (default 60) starting from its committed seeds in fuzz/corpus/<target>/:
#   fuzz_config   YAML bytes -> config loading and validation
#   fuzz_decode   bytes as a media file -> demux + decode + conversion to BGR
#   fuzz_compare  bytes as two report.json files -> `report compare` / `report show`
# New interesting inputs go to build-fuzz/corpus/<target>/ (the committed seeds stay as they
# are); a crash is saved as build-fuzz/crash-<target>-* and fails the script. Usage:
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
"$root/scripts/install-deps.sh"
build="$root/build-fuzz"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DFRAMEPIPE_FUZZ=ON -DFRAMEPIPE_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_config fuzz_decode fuzz_compare
# A hostile header may ask for a huge picture: the allocation fails (libav reports ENOMEM) as it
# would outside the sanitizer, instead of ASan stopping at its own size limit.
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for target in config decode compare; do
  mkdir -p "$build/corpus/$target"
  echo "fuzz_$target: ${seconds} s"
  "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/crash-$target-" \
    "$build/corpus/$target" "$root/fuzz/corpus/$target"
done
