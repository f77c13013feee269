"""The chart library on size and speed: uPlot (what the pages serve) against Chart.js, the most used peer, drawing
the monitoring page's twelve charts (three series each, a day of 10-minute points) and the analysis page's two
(a year of trading days) in Debian's Chromium.

    .venv/bin/python benchmarks/bench_charts.py          # BENCH_N=30 pages per library by default

Each sample is one fresh page: the library's file loaded, then the time from the first chart's construction to
the end of the frame that paints the last one (both libraries draw on a canvas; Chart.js with its animation off,
as a page that must not shift would use it). The sizes are those of the files a browser downloads, as they are
and gzipped. Chart.js comes from the npm registry into a temporary folder at its pinned version (it is not a
dependency of the app); uPlot is the file `make assets` put under stocktool/static/vendor/.
"""

import gzip
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import ROOT, report

N = int(os.environ.get("BENCH_N", "30"))
CHARTJS = "chart.js@4.6.2"
UPLOT = ROOT / "stocktool/static/vendor/uplot/uPlot.iife.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _series(n_points: int, n_series: int, step: int, seed: int) -> dict:
    rng = random.Random(seed)
    start = 1_767_312_000
    x = [start + i * step for i in range(n_points)]
    series = []
    for _ in range(n_series):
        level, values = 100.0, []
        for _ in range(n_points):
            level *= math.exp(rng.gauss(0, 0.01))
            values.append(round(level, 2))
        series.append(values)
    return {"x": x, "series": series}


CHARTS = [_series(144, 3, 600, k) for k in range(12)] + [_series(252, 2, 86_400, 100 + k) for k in range(2)]

# One function per library: draw every chart into its own 600x200 box, resolve after the frame that paints them.
DRAW = {
    "uPlot": """(charts) => new Promise((done) => {
      const t0 = performance.now();
      for (const c of charts) {
        const box = document.createElement("div"); document.body.appendChild(box);
        new uPlot({width: 600, height: 200, scales: {x: {time: true}},
                   series: [{}].concat(c.series.map((s, i) => ({label: "s" + i, stroke: "#0b72d9", width: 2}))),
                   legend: {live: true}}, [c.x].concat(c.series), box);
      }
      requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));
    })""",
    "Chart.js": """(charts) => new Promise((done) => {
      const t0 = performance.now();
      for (const c of charts) {
        const box = document.createElement("div"); box.style.width = "600px"; box.style.height = "200px";
        const canvas = document.createElement("canvas"); box.appendChild(canvas); document.body.appendChild(box);
        new Chart(canvas, {type: "line", data: {labels: c.x, datasets: c.series.map((s, i) => ({label: "s" + i,
          data: s, borderColor: "#0b72d9", borderWidth: 2, pointRadius: 0}))},
          options: {animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
                    normalized: true, interaction: {mode: "index", intersect: false},
                    scales: {x: {type: "category"}}}});
      }
      requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));
    })""",
}


def _chartjs_file() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="bench-charts-"))
    subprocess.run(["npm", "install", "--prefix", str(folder), "--ignore-scripts", "--no-audit", "--no-fund",
                    "--loglevel=error", CHARTJS], check=True, stdout=subprocess.DEVNULL)
    return folder / "node_modules/chart.js/dist/chart.umd.js"


def _sizes(path: Path) -> str:
    raw = path.read_bytes()
    return f"{len(raw) / 1024:.0f} KB, {len(gzip.compress(raw, 9)) / 1024:.0f} KB gzipped"


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not UPLOT.exists():
        sys.exit("bench_charts: stocktool/static/vendor/uplot/uPlot.iife.min.js is missing; run `make assets`")
    files = {"uPlot": UPLOT, "Chart.js": _chartjs_file()}
    # (Chart.js's "parsing: false" wants {x, y} points: give it the same data in that shape.)
    data = {"uPlot": CHARTS, "Chart.js": [{"x": c["x"], "series": [[{"x": i, "y": v} for i, v in enumerate(s)]
                                                                    for s in c["series"]]} for c in CHARTS]}
    print(f"{len(CHARTS)} charts, {sum(len(c['series']) * len(c['x']) for c in CHARTS):,} points; "
          f"n={N} fresh pages per library")
    for name, path in files.items():
        print(f"  {name:<9} {path.name}: {_sizes(path)}")
    samples = {name: [] for name in files}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        for i in range(N + 3):  # the first three of each: warm-up
            for name in (("uPlot", "Chart.js") if i % 2 else ("Chart.js", "uPlot")):  # interleaved
                page = context.new_page()
                page.set_content("<!doctype html><html><body></body></html>")
                page.add_script_tag(path=str(files[name]))
                elapsed = page.evaluate(DRAW[name], data[name])
                page.close()
                if i >= 3:
                    samples[name].append(elapsed)
        browser.close()
    report("Drawing the monitoring and analysis pages' 14 charts (ms, one fresh page each)",
           [(name, samples[name]) for name in ("uPlot", "Chart.js")], baseline="uPlot")


if __name__ == "__main__":
    main()
