#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then the installed binary on its own: its version
# is the project's, and it validates a config installed next to it.
# Usage: install_test.sh BUILD_DIR EXPECTED_VERSION
set -euo pipefail
build=$1
expected="framepipe $2"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
binary="$prefix/bin/framepipe"
[ -x "$binary" ] || { echo "not installed: bin/framepipe" >&2; exit 1; }
version=$("$binary" --version)
[ "$version" = "$expected" ] || { echo "--version said '$version', expected '$expected'" >&2; exit 1; }
for doc in README.md report.md first-report.md; do
  [ -s "$prefix/share/doc/framepipe/$doc" ] || { echo "not installed: share/doc/framepipe/$doc" >&2; exit 1; }
done
config="$prefix/share/framepipe/configs/default.yaml"
# From another folder, so nothing is read from the source tree by accident.
out=$(cd "$prefix" && "$binary" validate "$config")
[ "$out" = "$config: ok: decode (decode), blur (gaussian_blur), edges (canny), video (encode)" ] ||
  { echo "validate said: $out" >&2; exit 1; }
echo "installed and ran: $version"
