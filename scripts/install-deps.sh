#!/usr/bin/env bash
# Installs the Debian 12 packages framepipe builds and tests with, only those missing.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libopencv-dev libtbb-dev libturbojpeg0-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  googletest libgtest-dev time chromium python3 python3-jsonschema openssl
  opencv-data opencv-doc python3-onnx python3-numpy
  clang libclang-rt-14-dev
  libcurl4-openssl-dev libsqlite3-dev sqlite3 libpq-dev postgresql
  libopenmpi-dev openmpi-bin
)
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
