#!/usr/bin/env bash
# Installs the Debian 12 packages framepipe needs, only those missing.
#   scripts/install-deps.sh            everything: building, running and the whole test suite
#   scripts/install-deps.sh --runtime  only what building and running framepipe needs
# (README.md, "Dependencies", says why each package is there.)
set -euo pipefail
# Building and running: the compiler and the libraries framepipe links, ffmpeg for the sample
# clip, and the Haar cascades detect_faces reads by default.
runtime=(
  build-essential cmake pkg-config
  libopencv-dev libtbb-dev libturbojpeg0-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  libcurl4-openssl-dev libsqlite3-dev libpq-dev
  opencv-data
)
# The tests, fuzzing, benchmarks and `run --mpi`: reference tools, test data, a browser for the
# HTML report, a PostgreSQL server, clang for libFuzzer, Open MPI.
tests=(
  googletest libgtest-dev time chromium python3 python3-jsonschema openssl
  opencv-doc python3-onnx python3-numpy
  clang libclang-rt-14-dev
  sqlite3 postgresql
  libopenmpi-dev openmpi-bin
)
case "${1:-}" in
  --runtime) packages=("${runtime[@]}") ;;
  "") packages=("${runtime[@]}" "${tests[@]}") ;;
  *)
    echo "usage: $0 [--runtime]" >&2
    exit 2
    ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
