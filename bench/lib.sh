# Shared helpers for the bench/ scripts (sourced, not run).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$root/build}
bin="$build/app/framepipe"
work="$root/bench/work"
mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "bench needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
[ -x "$bin" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

# make_clip NAME SIZE SECONDS: a 30 fps H.264 testsrc2 clip in bench/work/, made once; prints its path.
make_clip() {
  local clip="$work/$1"
  if [ ! -s "$clip" ]; then
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=$2:rate=30:duration=$3" \
      -c:v libx264 -preset veryfast -pix_fmt yuv420p "$work/.partial-$1"
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
