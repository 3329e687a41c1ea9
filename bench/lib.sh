# Shared helpers for the bench/ scripts (sourced, not run).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$root/build}
bin="$build/app/framepipe"
work="$root/bench/work"
mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "bench needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
[ -x "$bin" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

# make_clip NAME SIZE SECONDS [FFMPEG_OPTION...]: a 30 fps H.264 testsrc2 clip in bench/work/,
# made once (options go before the output, e.g. colour tags); prints its path.
make_clip() {
  local clip="$work/$1"
  if [ ! -s "$clip" ]; then
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=$2:rate=30:duration=$3" \
      -c:v libx264 -preset veryfast -pix_fmt yuv420p "${@:4}" "$work/.partial-$1"
    mv "$work/.partial-$1" "$clip"
  fi
  echo "$clip"
}

frame_count() {
  ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1"
}

# measure CMD...: runs it once; prints "wall_s cpu_s peak_rss_kib minor_page_faults".
measure() {
  /usr/bin/time -f "%e %U %S %M %R" -o "$work/time.txt" "$@" >/dev/null 2>&1
  awk '{printf "%s %.2f %s %s\n", $1, $2 + $3, $4, $5}' "$work/time.txt"
}

# median of the numbers on stdin.
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# column N FILE: median of column N of FILE.
column() { awk -v c="$1" '{print $c}' "$2" | median; }

# ratio SECTION LABEL VALUE: records a framepipe ratio (higher is better for framepipe) for
# bench/run.sh's plot.
ratio() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$work/ratios.tsv"; }

# blur_canny_config FILE PROFILE: writes the blur + gray + canny + MPEG-4 pipeline the
# reference programs implement (bench/blur_canny_ops.h), with pipeline.profile PROFILE. MPEG-4
# at -q:v 3 gives about the bitrate OpenCV's VideoWriter picks for mp4v at 1080p.
blur_canny_config() {
  cat > "$1" <<YAML
pipeline: { name: blur-canny, profile: $2 }
output: { overwrite: true }
stages:
  - { name: decode, type: decode }
  - { name: blur, type: gaussian_blur, concurrency: unlimited, params: { ksize: 5, sigma: 2 } }
  - { name: gray, type: grayscale, concurrency: unlimited }
  - { name: edges, type: canny, concurrency: unlimited, params: { low: 50, high: 150 } }
  - { name: video, type: encode, params: { codec: mpeg4, quality: 3, path: "{stem}-{stage}.mp4" } }
YAML
}
# framepipe's heap settings (app/main.cpp's mallopt) for a program run by `measure`, through
# GLIBC_TUNABLES: with glibc's defaults each large frame buffer gets fresh pages, which made the
# OpenCV programs run at 3-5x their usual CPU on a loaded machine (RESULTS.md, "Performance
# wave 2"), so every comparison gives them the same heap.
framepipe_heap=(env GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=536870912)

# jpeg_folder DIR COUNT SIZE: COUNT distinct JPEGs of SIZE (ffmpeg testsrc2 frames) in DIR,
# made once.
jpeg_folder() {
  [ "$(find "$1" -name '*.jpg' 2>/dev/null | wc -l)" = "$2" ] && return
  rm -rf "$1" && mkdir -p "$1"
  ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=$3:rate=25" -frames:v "$2" -q:v 3 \
    "$1/%06d.jpg"
}

# images_edges_config FILE NAME: gaussian_blur + canny -> JPEG over a folder of images (one
# graph for all of them), the pipeline of bench/images_blur_canny_tbb.cpp.
images_edges_config() {
  cat > "$1" <<YAML
pipeline: { name: $2 }
output: { overwrite: true }
stages:
  - { type: decode }
  - { type: gaussian_blur, concurrency: unlimited, params: { ksize: 5, sigma: 2 } }
  - { type: canny, concurrency: unlimited, params: { low: 50, high: 150 } }
  - { type: write_images, concurrency: 2 }
YAML
}
