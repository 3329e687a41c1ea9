#pragma once

// The page report.html is made from: one HTML document with inline CSS and vanilla JS that draws
// everything from the report JSON, which render_html_report puts in place of @REPORT_JSON@.
// Kept as a raw string so the build needs no generator step; nothing here is fetched, so the page
// works offline. Strings from the report reach the page only through textContent.

#include <string_view>

namespace framepipe {

inline constexpr std::string_view kReportJsonMarker = "@REPORT_JSON@";

inline constexpr std::string_view kReportHtmlTemplate = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>framepipe report</title>
<style>
:root {
  /* One colour per category, used by the charts, legends and badges alike. */
  --cpu: #2563eb; --runnable: #93c5fd; --off-cpu: #f59e0b; --starved: #cbd5e1;
  --thread-wait: #94a3b8; --blocked: #e11d48;
  --mixed: #8b5cf6; --fps: #0d9488; --flight: #111827;
  --fg: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f6f7f9; --card: #fff;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans",
        sans-serif;
}
main { max-width: 1240px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
h2 { font-size: 16px; margin: 0 0 12px; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
  margin: 16px 0;
}
.muted { color: var(--muted); }
.status { font-size: 12px; font-weight: 600; padding: 2px 10px; border-radius: 999px; color: #fff; }
.status.ok { background: #16a34a; }
.status.failed { background: var(--blocked); }
.status.cancelled { background: #6b7280; }
.status.damaged { background: #d97706; }
.error-box {
  margin-top: 12px; padding: 10px 14px; border-radius: 6px; background: #fff1f2;
  border: 1px solid #fecdd3; color: #9f1239; white-space: pre-wrap; overflow-wrap: anywhere;
}
.facts {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px 20px;
  margin: 16px 0 0;
}
.facts div { min-width: 0; }
.facts dt { font-size: 12px; color: var(--muted); }
.facts dd { margin: 0; font-size: 15px; font-weight: 600; overflow-wrap: anywhere; }
.facts .two { grid-column: span 2; }
.facts .wide { grid-column: 1 / -1; }
.facts .wide dd { font-size: 14px; font-weight: 500; }
.bottleneck-callout {
  padding: 8px 12px; border-left: 4px solid var(--blocked); background: #fff1f2;
  border-radius: 4px; margin-bottom: 12px;
}
.bottleneck-callout.none { border-left-color: var(--starved); background: #f8fafc; }
ul.plain { margin: 0; padding-left: 20px; }
ul.plain li { margin: 4px 0; }
.advice li { margin: 8px 0; }
.advice .change { font-weight: 600; }
.advice .reason { color: var(--muted); }
.tag {
  font-size: 11px; padding: 1px 6px; border-radius: 4px; background: #f1f5f9; color: #475569;
  margin-left: 6px; font-weight: 500;
}
.tag.hot { background: #ffe4e6; color: #9f1239; }
.badge { white-space: nowrap; }
.dot {
  display: inline-block; width: 9px; height: 9px; border-radius: 50%; background: currentColor;
  margin-right: 5px;
}
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 7px; border-bottom: 1px solid var(--line); text-align: right;
         white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
th:nth-child(-n+4), td:nth-child(-n+4) { text-align: left; }
td:first-child {
  white-space: normal; overflow-wrap: break-word; min-width: 90px; max-width: 220px;
}
tr.stage td { font-weight: 500; }
tr.stage td:first-child { font-weight: 600; }
tr.bottleneck td { background: #fff1f2; }
tr.phase td { color: var(--muted); font-size: 13px; border-bottom-style: dashed; }
tr.phase td:first-child { padding-left: 26px; }
.sub { display: block; font-size: 11px; color: var(--muted); font-weight: 400; }
.charts { display: grid; grid-template-columns: 1fr; gap: 0; }
svg.chart { width: 100%; height: auto; display: block; font-size: 12px; }
svg.chart text { fill: var(--fg); }
svg.chart .axis { stroke: #9ca3af; stroke-width: 1; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .tick { fill: var(--muted); font-size: 11px; }
svg.chart .title { fill: var(--muted); font-size: 11px; }
svg.chart .empty { fill: var(--muted); font-style: italic; }
svg.chart .row-hot { fill: #fff1f2; }
svg.chart text.hot { font-weight: 700; fill: #9f1239; }
svg.chart .series { fill: none; stroke: currentColor; stroke-width: 2; stroke-linejoin: round; }
svg.chart .limit { fill: none; stroke: currentColor; stroke-width: 1.5; stroke-dasharray: 6 4; }
svg.chart .inside { fill: #fff; font-weight: 600; }
.k-cpu, .k-cpu-bound { color: var(--cpu); }
.k-off-cpu, .k-sleeping, .k-io-bound { color: var(--off-cpu); }
.k-runnable { color: var(--runnable); }
.k-thread-wait { color: var(--thread-wait); }
.k-starved, .k-idle { color: var(--starved); }
.k-blocked { color: var(--blocked); }
.k-mixed { color: var(--mixed); }
.k-fps { color: var(--fps); }
.k-flight { color: var(--flight); }
.k-q0 { color: #0ea5e9; } .k-q1 { color: #a855f7; } .k-q2 { color: #f97316; }
.k-q3 { color: #10b981; } .k-q4 { color: #e11d48; } .k-q5 { color: #64748b; }
details summary { cursor: pointer; font-weight: 600; }
pre { background: #f8fafc; border: 1px solid var(--line); border-radius: 6px; padding: 10px;
      overflow-x: auto; font-size: 12px; }
#render-errors { border-color: #fecdd3; background: #fff1f2; color: #9f1239; }
</style>
</head>
<body>
<main>
  <section class="card" id="summary">
    <h1><span id="pipeline-name"></span><span id="run-status" class="status"></span></h1>
    <div class="muted">framepipe run report <span id="version"></span></div>
    <div id="run-error" class="error-box" hidden></div>
    <dl class="facts" id="facts"></dl>
  </section>
  <section class="card" id="render-errors" hidden>
    <h2>This page failed to draw part of the report</h2>
    <ul class="plain"></ul>
  </section>
  <section class="card" id="findings">
    <h2>Findings</h2>
    <div id="bottleneck" class="bottleneck-callout"></div>
    <ul class="plain" id="conclusions"></ul>
    <h2 style="margin-top: 16px">Advice</h2>
    <ul class="plain advice" id="advice"></ul>
  </section>
  <section class="card">
    <h2>Stages</h2>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>stage</th><th>type</th><th>class</th><th>concurrency</th><th>items</th>
            <th>busy s</th><th>cpu s</th><th>runnable s</th><th>sleeping s</th><th>starved s</th>
            <th>waiting for a thread s</th><th>blocked s</th>
            <th>util %</th><th>p50 ms</th><th>p95 ms</th><th>max ms</th>
          </tr>
        </thead>
        <tbody id="stage-rows"></tbody>
      </table>
    </div>
  </section>
  <section class="card">
    <h2>Where each stage's time went</h2>
    <svg class="chart" data-chart="stage-bars" role="img"
         aria-label="per-stage cpu, runnable, sleeping, starved, waiting for a thread and blocked seconds"></svg>
  </section>
  <section class="card">
    <h2>CPU-bound, IO-bound and mixed time</h2>
    <svg class="chart" data-chart="split" role="img"
         aria-label="split of the run's time into CPU-bound, IO-bound and mixed"></svg>
  </section>
  <section class="card">
    <h2>Throughput and CPU over the run</h2>
    <svg class="chart" data-chart="timeline" role="img"
         aria-label="frames per second and CPU cores used over time"></svg>
  </section>
  <section class="card">
    <h2>Queues and frames in flight</h2>
    <svg class="chart" data-chart="queues" role="img"
         aria-label="queue depth per edge and frames in flight over time"></svg>
  </section>
  <section class="card">
    <details>
      <summary>Configuration</summary>
      <pre id="config"></pre>
    </details>
  </section>
</main>
<script type="application/json" id="report-data">@REPORT_JSON@</script>
<script>
(function () {
  'use strict';
  // Errors are counted on <body data-errors> (and listed on the page) so a headless browser can
  // tell a page that drew everything from one that broke; the attribute is absent if this
  // script never ran at all.
  const errors = [];
  document.body.setAttribute('data-errors', '0');
  function noteError(message) {
    errors.push(String(message));
    document.body.setAttribute('data-errors', String(errors.length));
    const box = document.getElementById('render-errors');
    box.hidden = false;
    box.querySelector('ul').appendChild(h('li', null, [String(message)]));
    console.error('framepipe report error: ' + message);
  }
  window.addEventListener('error', (event) => noteError(event.message));
  function guarded(name, draw) {
    try {
      draw();
    } catch (e) {
      noteError(name + ': ' + (e && e.message ? e.message : String(e)));
    }
  }

  // --- small helpers ------------------------------------------------------------------------
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const W = 960;
  const num = (v) => (typeof v === 'number' && isFinite(v) ? v : 0);
  const arr = (v) => (Array.isArray(v) ? v : []);
  const str = (v) => (v === null || v === undefined ? '' : String(v));
  const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
  const fixed = (v, digits) => (typeof v === 'number' && isFinite(v) ? v.toFixed(digits) : '–');
  const percent = (v) => (typeof v === 'number' && isFinite(v) ? fixed(v * 100, 0) + '%' : '–');
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  const maxOf = (values) => values.reduce((a, b) => Math.max(a, num(b)), 0);

  // An HTML element; children are elements or strings (inserted as text, never parsed).
  function h(tag, className, children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const child of children || []) {
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }
  // An SVG element appended to parent; text (if any) goes in as textContent.
  function s(parent, tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const key of Object.keys(attrs || {})) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }
  function tooltip(node, text) { s(node, 'title', null, text); }
  function badge(cls) {
    const dot = h('i', 'dot k-' + cls, []);
    return h('span', 'badge', [dot, cls]);
  }
  // Axis ticks at 1/2/5 x 10^k steps from 0 to at least max.
  function niceScale(max, count) {
    const top = max > 0 ? max : 1;
    const raw = top / (count || 5);
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= raw);
    const ticks = [0];
    while (ticks[ticks.length - 1] < top * (1 - 1e-9)) {
      ticks.push(Number((ticks.length * step).toPrecision(12)));
    }
    const digits = Math.max(0, -Math.floor(Math.log10(step)));
    return { max: ticks[ticks.length - 1], ticks: ticks, label: (v) => v.toFixed(digits) };
  }
  // Legend entries ({cls, label, mark: 'box' | 'line' | 'dash'}) laid out left to right,
  // wrapping at the chart's width; returns the height used.
  function legend(svg, x0, y0, entries) {
    let x = x0;
    let y = y0;
    for (const entry of entries) {
      const width = 26 + entry.label.length * 6.8 + 18;
      if (x + width > W - 10 && x > x0) {
        x = x0;
        y += 20;
      }
      const g = s(svg, 'g', { class: 'legend k-' + entry.cls });
      if (entry.mark === 'box') {
        s(g, 'rect', { x: x, y: y - 10, width: 14, height: 12, rx: 2, fill: 'currentColor' });
      } else {
        s(g, 'line', { x1: x, x2: x + 18, y1: y - 4, y2: y - 4,
                       class: entry.mark === 'dash' ? 'limit' : 'series' });
      }
      s(g, 'text', { x: x + 24, y: y }, entry.label);
      x += width;
    }
    return y - y0 + 20;
  }
  function emptyNote(svg, x, y, text) {
    s(svg, 'text', { x: x, y: y, 'text-anchor': 'middle', class: 'empty' }, text);
  }
  // A line through (t[i], v[i]); a single sample is drawn as a dot.
  function seriesLine(svg, cls, t, values, xOf, yOf, label) {
    const n = Math.min(t.length, values.length);
    if (n === 0) return;
    const g = s(svg, 'g', { class: 'k-' + cls });
    if (n === 1) {
      s(g, 'circle', { cx: xOf(num(t[0])), cy: yOf(num(values[0])), r: 3, fill: 'currentColor' });
    } else {
      const points = [];
      for (let i = 0; i < n; i++) {
        points.push(xOf(num(t[i])).toFixed(1) + ',' + yOf(num(values[i])).toFixed(1));
      }
      tooltip(s(g, 'polyline', { class: 'series', points: points.join(' ') }), label);
    }
  }
  // Time axis (x) and a value axis on the left, with grid lines; returns the scales.
  function timeAxes(svg, box, t, yMax, yTitle, xTitle) {
    const xs = niceScale(maxOf(t), 8);
    const ys = niceScale(yMax, 5);
    const xOf = (v) => box.left + (v / xs.max) * (box.right - box.left);
    const yOf = (v) => box.bottom - (v / ys.max) * (box.bottom - box.top);
    for (const v of ys.ticks) {
      s(svg, 'line', { x1: box.left, x2: box.right, y1: yOf(v), y2: yOf(v), class: 'grid' });
      s(svg, 'text', { x: box.left - 6, y: yOf(v) + 4, 'text-anchor': 'end', class: 'tick' },
        ys.label(v));
    }
    for (const v of xs.ticks) {
      s(svg, 'line', { x1: xOf(v), x2: xOf(v), y1: box.bottom, y2: box.bottom + 4, class: 'axis' });
      s(svg, 'text', { x: xOf(v), y: box.bottom + 17, 'text-anchor': 'middle', class: 'tick' },
        xs.label(v));
    }
    s(svg, 'line', { x1: box.left, x2: box.right, y1: box.bottom, y2: box.bottom, class: 'axis' });
    s(svg, 'line', { x1: box.left, x2: box.left, y1: box.top, y2: box.bottom, class: 'axis' });
    s(svg, 'text', { x: (box.left + box.right) / 2, y: box.bottom + 34, 'text-anchor': 'middle',
                     class: 'title' }, xTitle);
    s(svg, 'text', { x: 14, y: (box.top + box.bottom) / 2, 'text-anchor': 'middle', class: 'title',
                     transform: 'rotate(-90 14 ' + (box.top + box.bottom) / 2 + ')' }, yTitle);
    return { xOf: xOf, yOf: yOf, ys: ys };
  }
  function sizeChart(svg, height) {
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + height);
    svg.setAttribute('preserveAspectRatio', 'xMinYMin meet');
  }

  // --- sections -----------------------------------------------------------------------------
  function renderSummary(r) {
    const name = str(r.pipeline) || '(unnamed pipeline)';
    document.title = 'framepipe report: ' + name;
    document.getElementById('pipeline-name').textContent = name;
    const status = document.getElementById('run-status');
    // report.json's status (ok, damaged, failed, cancelled); reports without one: from ok.
    const known = ['ok', 'damaged', 'failed', 'cancelled'];
    const state = known.includes(r.status) ? r.status : (r.ok ? 'ok' : 'failed');
    status.textContent = state;
    status.className = 'status ' + state;
    document.getElementById('version').textContent = r.framepipe_version
        ? '· framepipe ' + str(r.framepipe_version) : '';
    if (!r.ok || r.error) {
      const box = document.getElementById('run-error');
      box.hidden = false;
      box.textContent = (state === 'cancelled' ? 'Cancelled: ' : 'Error: ') +
          (str(r.error) || 'the run failed') +
          '. The figures below cover the frames before the run stopped.';
    }
    const cpu = obj(r.cpu);
    const latency = obj(r.latency_ms);
    const facts = [
      ['wall time', fixed(r.wall_s, 2) + ' s'],
      ['frames', str(num(r.frames))],
      ['fps', fixed(r.fps, 1)],
      ['cores', str(num(r.cores))],
      ['oneTBB threads', str(num(r.threads))],
      ['peak frames in flight',
       num(r.peak_frames_in_flight) + ' of ' + num(r.max_frames_in_flight)],
      ['process CPU',
       fixed(cpu.process_cpu_s, 2) + ' s · ' + percent(cpu.utilization) + ' of cores', 'two'],
      ['other processes',
       obj(r.machine).measured ? percent(obj(r.machine).other_cpu_share) + ' of cores' : '–'],
      ['model bound',
       r.throughput_model ? fixed(obj(r.throughput_model).bound_fps, 1) + ' fps · ' +
                            str(obj(r.throughput_model).limit) : '–'],
      ['frame latency p50 / p95 / max',
       [latency.p50, latency.p95, latency.max].map((v) => fixed(v, 1)).join(' / ') + ' ms', 'two'],
      ['input', str(r.input), 'wide mono'],
    ];
    const list = document.getElementById('facts');
    for (const [label, value, cls] of facts) {
      list.appendChild(h('div', cls, [h('dt', null, [label]), h('dd', null, [value])]));
    }
  }

  function renderFindings(r) {
    const callout = document.getElementById('bottleneck');
    if (r.bottleneck) {
      // Under another limit (the cores) the stage named is only the busiest, as the terminal says.
      const limit = str(r.limited_by);
      callout.appendChild(
          document.createTextNode(limit && limit !== 'stage' ? 'Busiest stage: ' : 'Bottleneck: '));
      callout.appendChild(h('strong', null, [str(r.bottleneck)]));
    } else {
      callout.textContent = 'No bottleneck identified.';
      callout.classList.add('none');
    }
    const conclusions = document.getElementById('conclusions');
    for (const line of arr(r.conclusions)) conclusions.appendChild(h('li', null, [str(line)]));
    for (const rw of arr(r.rewrites).map(obj)) {
      conclusions.appendChild(h('li', null, ['Graph rewrite ' + str(rw.line)]));
    }
    if (!arr(r.conclusions).length && !arr(r.rewrites).length) {
      conclusions.appendChild(h('li', 'muted', ['No conclusions for this run.']));
    }
    const advice = document.getElementById('advice');
    for (const a of arr(r.advice).map(obj)) {
      const change = h('span', 'change', [h('code', null, [str(a.key)]), ': ',
                                          h('code', null, [str(a.from)]), ' → ',
                                          h('code', null, [str(a.to)])]);
      const item = h('li', null, [change]);
      if (a.stage) item.appendChild(h('span', 'tag', [str(a.stage)]));
      if (typeof a.predicted_fps === 'number' && a.predicted_fps > 0) {
        item.appendChild(h('span', 'tag', ['predicted ' + fixed(a.predicted_fps, 1) + ' fps']));
      }
      item.appendChild(h('div', 'reason', [str(a.reason)]));
      advice.appendChild(item);
    }
    if (!arr(r.advice).length) advice.appendChild(h('li', 'muted', ['No changes suggested.']));
  }

  function renderStageTable(r) {
    const tbody = document.getElementById('stage-rows');
    const stages = arr(r.stages).map(obj);
    for (const st of stages) {
      const hot = r.bottleneck !== null && r.bottleneck !== undefined && st.name === r.bottleneck;
      const nameCell = h('td', null, [str(st.name)]);
      if (hot) nameCell.appendChild(h('span', 'tag hot', ['bottleneck']));
      const typeCell = h('td', null, [str(st.type),
          h('span', 'sub', [[st.kind, st.resource, st.ordering].map(str).join(' · ')])]);
      const workers = num(st.workers);
      const lat = obj(st.latency_ms);
      const row = h('tr', hot ? 'stage bottleneck' : 'stage', [
        nameCell, typeCell, h('td', null, [badge(str(st.class))]),
        h('td', null, [str(st.concurrency),
                       h('span', 'sub', [workers + (workers === 1 ? ' worker' : ' workers')])]),
        h('td', null, [str(num(st.items))]),
        h('td', null, [fixed(st.busy_s, 3)]), h('td', null, [fixed(st.cpu_s, 3)]),
        h('td', null, [fixed(st.runnable_s, 3)]), h('td', null, [fixed(st.sleeping_s, 3)]),
        h('td', null, [fixed(st.starved_s, 3)]), h('td', null, [fixed(st.waiting_for_thread_s, 3)]),
        h('td', null, [fixed(st.blocked_s, 3)]),
        h('td', null, [fixed(typeof st.utilization === 'number' ? st.utilization * 100 : null, 0)]),
        h('td', null, [fixed(lat.p50, 1)]), h('td', null, [fixed(lat.p95, 1)]),
        h('td', null, [fixed(lat.max, 1)]),
      ]);
      tbody.appendChild(row);
      // Phases: their wall time goes in the busy column; the other columns are per stage.
      for (const ph of arr(st.phases).map(obj)) {
        tbody.appendChild(h('tr', 'phase', [
          h('td', null, ['↳ ' + str(ph.name)]), h('td', null, ['phase']),
          h('td', null, [badge(str(ph.class))]), h('td', null, []), h('td', null, []),
          h('td', null, [fixed(ph.wall_s, 3)]), h('td', null, [fixed(ph.cpu_s, 3)]),
          h('td', null, [fixed(ph.runnable_s, 3)]), h('td', null, [fixed(ph.sleeping_s, 3)]),
          h('td', null, []), h('td', null, []), h('td', null, []),
          h('td', null, []), h('td', null, []), h('td', null, []), h('td', null, []),
        ]));
      }
    }
    if (!stages.length) {
      const cell = h('td', 'muted', ['No stages ran.']);
      cell.colSpan = 16;
      tbody.appendChild(h('tr', null, [cell]));
    }
  }

  const TIME_KINDS = [
    { cls: 'cpu', label: 'cpu', key: 'cpu_s' },
    { cls: 'runnable', label: 'runnable (waiting for a core)', key: 'runnable_s' },
    { cls: 'sleeping', label: 'sleeping (IO, locks)', key: 'sleeping_s' },
    { cls: 'starved', label: 'starved (no input)', key: 'starved_s' },
    { cls: 'thread-wait', label: 'input waiting for a thread', key: 'waiting_for_thread_s' },
    { cls: 'blocked', label: 'blocked (waiting on downstream)', key: 'blocked_s' },
  ];

  function drawStageBars(svg, r) {
    const stages = arr(r.stages).map(obj);
    const left = 170;
    const right = W - 70;
    const rowH = 30;
    const top = 24 + legend(svg, left, 16, TIME_KINDS.map((k) => ({ cls: k.cls, label: k.label,
                                                                      mark: 'box' })));
    const bottom = top + Math.max(stages.length, 1) * rowH;
    sizeChart(svg, bottom + 44);
    const xs = niceScale(maxOf(stages.map((st) => sum(TIME_KINDS.map((k) => num(st[k.key]))))), 8);
    const xOf = (v) => left + (v / xs.max) * (right - left);
    for (const v of xs.ticks) {
      s(svg, 'line', { x1: xOf(v), x2: xOf(v), y1: top, y2: bottom, class: 'grid' });
      s(svg, 'text', { x: xOf(v), y: bottom + 16, 'text-anchor': 'middle', class: 'tick' },
        xs.label(v));
    }
    s(svg, 'text', { x: (left + right) / 2, y: bottom + 34, 'text-anchor': 'middle',
                     class: 'title' }, 'seconds (summed over the stage\'s workers)');
    s(svg, 'line', { x1: left, x2: left, y1: top, y2: bottom, class: 'axis' });
    if (!stages.length) emptyNote(svg, (left + right) / 2, top + rowH / 2 + 4, 'no stages');
    stages.forEach((st, i) => {
      const y = top + i * rowH;
      const hot = r.bottleneck !== null && r.bottleneck !== undefined && st.name === r.bottleneck;
      if (hot) s(svg, 'rect', { x: 4, y: y + 1, width: W - 8, height: rowH - 2, class: 'row-hot' });
      const name = str(st.name);
      const label = s(svg, 'text', { x: left - 8, y: y + rowH / 2 + 4, 'text-anchor': 'end',
                                     class: hot ? 'hot' : '' },
                      name.length > 22 ? name.slice(0, 21) + '…' : name);
      tooltip(label, name + (hot ? ' (bottleneck)' : ''));
      let x = left;
      for (const k of TIME_KINDS) {
        const width = xOf(num(st[k.key])) - left;
        if (width <= 0) continue;
        const bar = s(svg, 'rect', { class: 'k-' + k.cls, x: x, y: y + 6, width: width,
                                     height: rowH - 12, fill: 'currentColor' });
        tooltip(bar, name + ': ' + k.label + ' ' + fixed(st[k.key], 3) + ' s');
        x += width;
      }
      s(svg, 'text', { x: x + 6, y: y + rowH / 2 + 4, class: 'tick' },
        fixed(sum(TIME_KINDS.map((k) => num(st[k.key]))), 2) + ' s');
    });
  }

  function drawSplit(svg, r) {
    const split = obj(r.split);
    const parts = [
      { cls: 'cpu-bound', label: 'CPU-bound', seconds: num(split.cpu_bound_s),
        share: split.cpu_share },
      { cls: 'io-bound', label: 'IO-bound', seconds: num(split.io_bound_s), share: split.io_share },
      { cls: 'mixed', label: 'mixed', seconds: num(split.mixed_s), share: split.mixed_share },
    ];
    const left = 20;
    const right = W - 20;
    const top = 10 + legend(svg, left, 16, parts.map((p) => ({
      cls: p.cls, mark: 'box',
      label: p.label + ' ' + fixed(p.seconds, 2) + ' s (' + percent(p.share) + ')',
    })));
    const barH = 34;
    sizeChart(svg, top + barH + 40);
    const total = sum(parts.map((p) => p.seconds));
    if (total <= 0) {
      s(svg, 'rect', { x: left, y: top, width: right - left, height: barH, class: 'grid',
                       fill: 'none' });
      emptyNote(svg, (left + right) / 2, top + barH / 2 + 4, 'no time recorded');
    } else {
      let x = left;
      for (const p of parts) {
        const width = (p.seconds / total) * (right - left);
        if (width <= 0) continue;
        const bar = s(svg, 'rect', { class: 'k-' + p.cls, x: x, y: top, width: width,
                                     height: barH, fill: 'currentColor' });
        tooltip(bar, p.label + ': ' + fixed(p.seconds, 3) + ' s (' + percent(p.share) + ')');
        if (width > 110) {
          s(svg, 'text', { x: x + width / 2, y: top + barH / 2 + 4, 'text-anchor': 'middle',
                           class: 'inside' }, p.label + ' ' + percent(p.share));
        }
        x += width;
      }
    }
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const x = left + f * (right - left);
      s(svg, 'line', { x1: x, x2: x, y1: top + barH, y2: top + barH + 4, class: 'axis' });
      s(svg, 'text', { x: x, y: top + barH + 18, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end'
                       : 'middle', class: 'tick' }, (f * 100) + '%');
    }
  }

  function drawTimeline(svg, r) {
    const series = obj(r.series);
    const t = arr(series.t);
    const fps = arr(series.fps);
    const cpu = arr(series.cpu_cores);
    const cores = num(r.cores);
    const box = { left: 60, right: W - 60, top: 0, bottom: 0 };
    box.top = 16 + legend(svg, box.left, 16, [
      { cls: 'fps', label: 'frames per second (left axis)', mark: 'line' },
      { cls: 'cpu', label: 'process CPU in cores (right axis)', mark: 'line' },
      { cls: 'cpu', label: cores + ' cores available', mark: 'dash' },
    ]);
    box.bottom = box.top + 220;
    sizeChart(svg, box.bottom + 44);
    const axes = timeAxes(svg, box, t, maxOf(fps), 'fps', 'seconds since start');
    // CPU gets its own scale on the right so a 4-core run and a 300 fps run both fill the chart.
    const cs = niceScale(Math.max(maxOf(cpu), cores), 5);
    const cOf = (v) => box.bottom - (v / cs.max) * (box.bottom - box.top);
    s(svg, 'line', { x1: box.right, x2: box.right, y1: box.top, y2: box.bottom, class: 'axis' });
    for (const v of cs.ticks) {
      s(svg, 'text', { x: box.right + 6, y: cOf(v) + 4, class: 'tick' }, cs.label(v));
    }
    s(svg, 'text', { x: W - 14, y: (box.top + box.bottom) / 2, 'text-anchor': 'middle',
                     class: 'title', transform: 'rotate(90 ' + (W - 14) + ' ' +
                     (box.top + box.bottom) / 2 + ')' }, 'cores');
    if (cores > 0) {
      const g = s(svg, 'g', { class: 'k-cpu' });
      s(g, 'line', { x1: box.left, x2: box.right, y1: cOf(cores), y2: cOf(cores), class: 'limit' });
      s(g, 'text', { x: box.right - 4, y: cOf(cores) - 5, 'text-anchor': 'end', class: 'tick' },
        cores + ' cores');
    }
    if (!t.length) {
      emptyNote(svg, (box.left + box.right) / 2, (box.top + box.bottom) / 2, 'no samples');
      return;
    }
    seriesLine(svg, 'fps', t, fps, axes.xOf, axes.yOf, 'frames per second');
    seriesLine(svg, 'cpu', t, cpu, axes.xOf, cOf, 'process CPU (cores)');
  }

  function drawQueues(svg, r) {
    const series = obj(r.series);
    const t = arr(series.t);
    const queues = arr(series.queues).map(obj);
    const flight = arr(series.frames_in_flight);
    const maxFlight = num(r.max_frames_in_flight);
    const box = { left: 60, right: W - 30, top: 0, bottom: 0 };
    const entries = queues.map((q, i) => ({ cls: 'q' + (i % 6), mark: 'line',
                                             label: str(q.from) + ' → ' + str(q.to) }));
    entries.push({ cls: 'flight', label: 'frames in flight', mark: 'line' });
    entries.push({ cls: 'flight', label: 'max ' + maxFlight + ' in flight', mark: 'dash' });
    box.top = 16 + legend(svg, box.left, 16, entries);
    box.bottom = box.top + 220;
    sizeChart(svg, box.bottom + 44);
    const yMax = Math.max(maxFlight, maxOf(flight), ...queues.map((q) => maxOf(arr(q.depth))));
    const axes = timeAxes(svg, box, t, yMax, 'frames', 'seconds since start');
    if (maxFlight > 0) {
      const g = s(svg, 'g', { class: 'k-flight' });
      s(g, 'line', { x1: box.left, x2: box.right, y1: axes.yOf(maxFlight), y2: axes.yOf(maxFlight),
                     class: 'limit' });
    }
    if (!t.length) {
      emptyNote(svg, (box.left + box.right) / 2, (box.top + box.bottom) / 2, 'no samples');
      return;
    }
    queues.forEach((q, i) => seriesLine(svg, 'q' + (i % 6), t, arr(q.depth), axes.xOf, axes.yOf,
                                        'queue ' + str(q.from) + ' → ' + str(q.to)));
    seriesLine(svg, 'flight', t, flight, axes.xOf, axes.yOf, 'frames in flight');
  }

  // --- main ---------------------------------------------------------------------------------
  let report = {};
  guarded('report data', () => {
    report = obj(JSON.parse(document.getElementById('report-data').textContent));
  });
  guarded('summary', () => renderSummary(report));
  guarded('findings', () => renderFindings(report));
  guarded('stage table', () => renderStageTable(report));
  const charts = { 'stage-bars': drawStageBars, split: drawSplit, timeline: drawTimeline,
                   queues: drawQueues };
  for (const name of Object.keys(charts)) {
    guarded('chart ' + name, () => {
      charts[name](document.querySelector('svg[data-chart="' + name + '"]'), report);
    });
  }
  guarded('config', () => {
    document.getElementById('config').textContent = JSON.stringify(obj(report.config), null, 2);
  });
})();
</script>
</body>
</html>
)html";

}  // namespace framepipe
