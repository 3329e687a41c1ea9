"""Reads the ratios bench/run.sh's sections recorded (section, label, ratio; higher is better for
framepipe), prints a Markdown table of the targets and writes a bar chart of all ratios as SVG.
Usage: python3 bench/summarize.py RATIOS.tsv CHART.svg"""
import html
import sys

# section, label prefix, minimum ratio, what the target says
TARGETS = [
    ("decode only", "vs ffmpeg", 0.95, "decode only ≥ 0.95× ffmpeg at the same thread count"),
    ("decode only", "framepipe's default", 0.97,
     "decode only with framepipe's default config ≥ 0.97× `ffmpeg -threads` (all cores)"),
    *[(section, prefix, 1.3, f"blur + canny + encode{where} ≥ 1.3× the hand-written "
       f"parallel_pipeline{what}")
      for section, where in (("blur+canny+encode", ", 1080p"), ("blur+canny+encode 720p", ", 720p"),
                             ("blur+canny+encode vtest", ", vtest.avi"))
      for prefix, what in (("vs hand-written oneTBB", " in wall time"),
                           ("cpu vs hand-written oneTBB", " in CPU seconds"))],
    ("blur+canny+encode", "vs ffmpeg CLI", 4.0, "blur + canny + encode, 1080p ≥ 4× the ffmpeg CLI"),
    ("blur+canny+encode", "vs OpenCV loop, cv::setNumThreads(1)", 1.5,
     "blur + canny + encode ≥ 1.5× the sequential loop"),
    ("HOG people detection", "vs hand-written oneTBB", 1.0,
     "HOG people detection ≥ 1.0× the hand-written parallel_pipeline"),
    ("overlap efficiency", "", 0.9,
     "overlap efficiency ≥ 0.9, against what limits the run (the report's `limited_by`: the "
     "busiest stage, the oneTBB threads or the cores)"),
    ("memory", "", 1 / 1.1, "peak RSS on the 60 s clip within 10% of the 10 s clip (10 s / 60 s ≥ 0.909)"),
    ("profiling cost", "", 0.97, "profiling on costs ≤ 3% (fps on / off ≥ 0.97)"),
]


def main(ratios_path, chart_path):
    rows = []
    with open(ratios_path, encoding="utf-8") as ratios:
        for line in ratios:
            section, label, value = line.rstrip("\n").split("\t")
            rows.append((section, label, float(value)))
    print("| target | measured | met |")
    print("|---|---|---|")
    for section, prefix, minimum, text in TARGETS:
        found = [(label, value) for s, label, value in rows if s == section and label.startswith(prefix)]
        if not found:
            print(f"| {text} | not measured | – |")
            continue
        measured = ", ".join(f"{label}: {value:.3f}" for label, value in found)
        met = "yes" if all(value >= minimum for _, value in found) else "**no**"
        print(f"| {text} | {measured} | {met} |")
    write_chart(rows, chart_path)


def write_chart(rows, chart_path):
    bar_height, gap, label_width, chart_width = 18, 6, 460, 360
    top = max(value for _, _, value in rows) * 1.1
    height = len(rows) * (bar_height + gap) + 50
    scale = chart_width / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + chart_width + 60}" '
             f'height="{height}" font-family="sans-serif" font-size="12">',
             '<text x="4" y="16" font-weight="bold">framepipe ratio (higher is better for '
             'framepipe; the line marks 1.0)</text>']
    for i, (section, label, value) in enumerate(rows):
        y = 30 + i * (bar_height + gap)
        colour = "#2b7bb9" if value >= 1.0 else "#d9822b"
        parts.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">'
                     f'{html.escape(section)}: {html.escape(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{value * scale:.1f}" '
                     f'height="{bar_height}" fill="{colour}"/>')
        parts.append(f'<text x="{label_width + value * scale + 4:.1f}" y="{y + 13}">{value:.2f}</text>')
    one = label_width + scale
    parts.append(f'<line x1="{one:.1f}" y1="24" x2="{one:.1f}" y2="{height - 10}" '
                 'stroke="#333" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    with open(chart_path, "w", encoding="utf-8") as chart:
        chart.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
